import { constants, accessSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { StartedMember } from "../backend/backend.ts";
import { run } from "../common/exec.ts";
import { type BackendKind, isTopologyName } from "../model/scenario.ts";
import { HA_MANAGERS, type HaManager, type Need } from "../topology/index.ts";

export interface Check {
  what: string;
  ok: boolean;
  /** The exact command that fixes it. */
  fix: string;
}

const APT = "apt-get update && apt-get install -y";

/** PostgreSQL's directory on the local backend: Debian 12's packages. */
const HOST_POSTGRES = "/usr/lib/postgresql/15";

/**
 * What the members need besides each HA manager's own needs (topology/<name>/manager.ts) for each
 * entry point, with the Debian package that provides it.
 * `{pg}` is PostgreSQL's directory (/usr/lib/postgresql/<major>), `{v}` its major version. This is
 * also the contract a user's own image (--image) must meet; it is checked in the first member.
 */
const MEMBER_SOFTWARE: Record<string, readonly Need[]> = {
  common: [
    ["/usr/sbin/nft", "nftables"],
    ["{pg}/bin/postgres", "postgresql-{v}"],
    ["{pg}/bin/pg_rewind", "postgresql-{v}"],
  ],
  haproxy: [["/usr/sbin/haproxy", "haproxy"]],
  pgpool: [["/usr/sbin/pgpool", "pgpool2"]],
  dns: [["/usr/sbin/dnsmasq", "dnsmasq-base"]],
};

/** Only where members are namespaces of this machine: its own network tools and setpriv. */
const LOCAL_HOST: [string, string][] = [
  ["/usr/sbin/ip", "iproute2"],
  ["/usr/bin/setpriv", "util-linux"],
];

/** What the harness's own side needs on any backend besides each HA manager's: the libpq addon. */
const HARNESS_SIDE: Record<string, readonly Need[]> = {
  // The uri entry point drives libpq through the addon npm ci builds against libpq-dev.
  uri: [
    [
      fileURLToPath(new URL("../../node_modules/libpq/build/Release/addon.node", import.meta.url)),
      "libpq-dev && npm rebuild libpq",
    ],
  ],
};

/** A component's needs: an HA manager's from its descriptor, an entry point's (or the common ones) from here. */
function needsOf(group: string, which: keyof HaManager["needs"]): readonly Need[] {
  if (isTopologyName(group)) return HA_MANAGERS[group].needs[which];
  if (which === "member") return MEMBER_SOFTWARE[group] ?? [];
  return which === "harness" ? (HARNESS_SIDE[group] ?? []) : [];
}

function memberSoftware(components: readonly string[], postgresDir: string): [string, string][] {
  const version = postgresDir.split("/").at(-1) ?? "";
  return ["common", ...components].flatMap((group) =>
    needsOf(group, "member").map(([path, pkg]): [string, string] => [
      path.replace("{pg}", postgresDir),
      pkg.replaceAll("{v}", version),
    ]),
  );
}

function executable(path: string): boolean {
  try {
    accessSync(path, /\.(so|node)$/.test(path) ? constants.R_OK : constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function checksOf(entries: readonly Need[]): Check[] {
  return entries.map(([path, pkg]) => ({ what: path, ok: executable(path), fix: `${APT} ${pkg}` }));
}

/**
 * Everything a run needs on this machine for these topologies and entry points, each with its fix.
 * The local backend runs the host's own packages as root; other backends need only the harness's
 * side here (their engine and images are checked when they start, their members by checkMember).
 */
export async function preflight(backend: BackendKind, components: readonly string[]): Promise<Check[]> {
  const harnessSide = checksOf(components.flatMap((group) => needsOf(group, "harness")));
  if (backend !== "local") return harnessSide;
  const checks: Check[] = [
    {
      what: "running as root (network namespaces need it)",
      ok: process.getuid?.() === 0,
      fix: "sudo npx pgchaos …  (or run as root), or --backend docker",
    },
    ...checksOf([...LOCAL_HOST, ...memberSoftware(components, HOST_POSTGRES)]),
    ...components
      .flatMap((group) => needsOf(group, "builtHere"))
      .map(([path, fix]) => ({ what: path, ok: executable(path), fix })),
    ...harnessSide,
  ];
  const user = await run(["id", "-u", "postgres"]);
  checks.push({ what: "user postgres", ok: user.code === 0, fix: `${APT} postgresql-15` });
  return checks;
}

/**
 * The same contract inside a started member (a user's own image): one line naming the first thing
 * missing, or undefined. The harness's helpers also need Node.js there.
 */
export async function checkMember(
  member: StartedMember,
  components: readonly string[],
  postgresBin: string,
): Promise<string | undefined> {
  const needed: [string, string][] = [
    ...memberSoftware(components, postgresBin.replace(/\/bin$/, "")),
    ["/usr/bin/node", "nodejs"],
  ];
  const probe = needed.map(([path]) => `[ -e '${path}' ] || echo '${path}'`).join("; ");
  const result = await member.exec([
    "sh",
    "-c",
    `${probe}; id -u postgres >/dev/null 2>&1 || echo 'user postgres'`,
  ]);
  const missing = result.stdout.split("\n").filter(Boolean);
  if (missing.length === 0) return undefined;
  const fix = [...new Set(missing.map((m) => needed.find(([path]) => path === m)?.[1] ?? "postgresql"))];
  return `lacks ${missing.join(", ")} — install ${fix.join(" ")} in the image (see README, "Your own image")`;
}

/** The first failed check as a one-line error, or undefined when everything is there. */
export function firstProblem(checks: Check[]): string | undefined {
  const failed = checks.find((c) => !c.ok);
  return failed ? `missing: ${failed.what} — fix: ${failed.fix}` : undefined;
}
