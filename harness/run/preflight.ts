import { constants, accessSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { BackendKind } from "../backend/backend.ts";
import { run } from "../common/exec.ts";

export interface Check {
  what: string;
  ok: boolean;
  /** The exact command that fixes it. */
  fix: string;
}

const APT = "apt-get update && apt-get install -y";

/** Binaries each topology needs, with the Debian package that provides them. */
const REQUIRED: Record<string, [string, string][]> = {
  common: [
    ["/usr/sbin/ip", "iproute2"],
    ["/usr/sbin/nft", "nftables"],
    ["/usr/bin/setpriv", "util-linux"],
    ["/usr/lib/postgresql/15/bin/postgres", "postgresql-15"],
    ["/usr/lib/postgresql/15/bin/pg_rewind", "postgresql-15"],
  ],
  patroni: [
    ["/usr/bin/patroni", "patroni python3-psycopg2"],
    ["/usr/bin/etcd", "etcd-server"],
    ["/usr/bin/etcdctl", "etcd-client"],
  ],
  repmgr: [
    ["/usr/bin/repmgr", "postgresql-15-repmgr"],
    ["/usr/bin/repmgrd", "postgresql-15-repmgr"],
    ["/usr/lib/postgresql/15/lib/repmgr.so", "postgresql-15-repmgr"],
    // repmgr's switchover reaches the old primary over SSH: one sshd per member's host.
    ["/usr/sbin/sshd", "openssh-server"],
    ["/usr/bin/ssh", "openssh-client"],
    ["/usr/bin/ssh-keygen", "openssh-client"],
  ],
  haproxy: [["/usr/sbin/haproxy", "haproxy"]],
  // The uri entry point drives libpq through the addon npm ci builds against libpq-dev.
  uri: [
    [
      fileURLToPath(new URL("../../node_modules/libpq/build/Release/addon.node", import.meta.url)),
      "libpq-dev && npm rebuild libpq",
    ],
  ],
  pgpool: [["/usr/sbin/pgpool", "pgpool2"]],
  pg_auto_failover: [
    ["/usr/bin/pg_autoctl", "pg-auto-failover-cli postgresql-15-auto-failover"],
    ["/usr/lib/postgresql/15/lib/pgautofailover.so", "postgresql-15-auto-failover"],
  ],
};

function executable(path: string): boolean {
  try {
    accessSync(path, /\.(so|node)$/.test(path) ? constants.R_OK : constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** What the harness's own side needs on any backend: the libpq addon, ssh-keygen for repmgr's keys. */
const HARNESS_SIDE: Record<string, [string, string][]> = {
  uri: REQUIRED.uri ?? [],
  repmgr: [["/usr/bin/ssh-keygen", "openssh-client"]],
};

/**
 * Everything a run needs on this machine for these topologies and entry points, each with its fix.
 * The local backend runs the host's own packages as root; Docker needs only the harness's side
 * here (the engine and its images are checked when the backend starts).
 */
export async function preflight(backend: BackendKind, components: readonly string[]): Promise<Check[]> {
  if (backend !== "local") {
    return components.flatMap((group) =>
      (HARNESS_SIDE[group] ?? []).map(([path, pkg]) => ({
        what: path,
        ok: executable(path),
        fix: `${APT} ${pkg}`,
      })),
    );
  }
  const checks: Check[] = [
    {
      what: "running as root (network namespaces need it)",
      ok: process.getuid?.() === 0,
      fix: "sudo npx pgchaos …  (or run as root), or --backend docker",
    },
  ];
  for (const group of ["common", ...components]) {
    for (const [path, pkg] of REQUIRED[group] ?? []) {
      checks.push({ what: path, ok: executable(path), fix: `${APT} ${pkg}` });
    }
  }
  const user = await run(["id", "-u", "postgres"]);
  checks.push({ what: "user postgres", ok: user.code === 0, fix: `${APT} postgresql-15` });
  return checks;
}

/** The first failed check as a one-line error, or undefined when everything is there. */
export function firstProblem(checks: Check[]): string | undefined {
  const failed = checks.find((c) => !c.ok);
  return failed ? `missing: ${failed.what} — fix: ${failed.fix}` : undefined;
}
