import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import type { ClusterFileInput } from "../harness/attach/cluster-file.ts";
import type { StartedBackend, StartedMember } from "../harness/backend/backend.ts";
import { LocalBackend } from "../harness/backend/local.ts";
import { pollUntil } from "../harness/common/clock.ts";
import type { Member } from "../harness/model/record.ts";
import type { TopologyName } from "../harness/model/scenario.ts";
import { loadScenario } from "../harness/scenario/scenario.ts";
import { HA_MANAGERS } from "../harness/topology/index.ts";
import { memberEnv, processLog } from "../harness/topology/members.ts";
import { withConnection } from "../harness/topology/sql.ts";
import type { Topology } from "../harness/topology/topology.ts";
import { makeKeys, startSshd } from "./sshd.ts";

/**
 * Issue 14's acceptance shape: a cluster the local backend starts and leaves running, with an sshd
 * in every member's namespace, which a separate `pgchaos run --cluster` then knows only through a
 * cluster file, SSH, and TCP to PostgreSQL and the HA manager's API.
 */
export interface AttachFixture {
  runId: string;
  backend: StartedBackend;
  /** The provisioned cluster's own topology: the test's independent view of it. */
  topology: Topology;
  work: string;
  clusterFile: string;
  /** The environment variable the cluster file's password_env names (set while the fixture lives). */
  passwordEnv: string;
  healthy(timeoutMs?: number): Promise<boolean>;
  /** pgchaos's schemas and tables on the cluster's primary. */
  pgchaosObjects(): Promise<string[]>;
  /** nftables tables whose name says pgchaos, in every member's namespace. */
  pgchaosTables(): Promise<string[]>;
  destroy(): Promise<void>;
}

/** The cluster file's `services:` for one member, written by the test per HA manager. */
export type ServicesOf = (
  member: StartedMember,
  kind: Member["kind"],
  backend: StartedBackend,
) => Promise<ClusterFileInput["services"]> | ClusterFileInput["services"];

const ROLE_OF: Record<Member["kind"], "postgres" | "dcs" | "monitor" | "witness" | null> = {
  postgres: "postgres",
  dcs: "dcs",
  monitor: "monitor",
  witness: "witness",
  entrypoint: null,
};

export async function provisionForAttach(
  ha: TopologyName,
  scenarioFile: string,
  servicesOf: ServicesOf,
  extra: (member: StartedMember, kind: Member["kind"]) => Record<string, unknown> = () => ({}),
): Promise<AttachFixture> {
  const runId = `a${randomBytes(2).toString("hex")}`;
  const password = randomBytes(8).toString("hex");
  const passwordEnv = `PGCHAOS_ATTACH_${ha.toUpperCase()}_PASSWORD`;
  const kind = HA_MANAGERS[ha].kind;
  const scenario = loadScenario(scenarioFile);
  const builder = new LocalBackend(runId);
  const work = mkdtempSync(join(tmpdir(), "pgchaos-test-attach-"));
  const destroy = async () => {
    delete process.env[passwordEnv];
    await builder.destroy();
    rmSync(work, { recursive: true, force: true });
  };
  try {
    const backend = await builder.start(
      kind.members(scenario).map(({ name }) => ({ name, ports: [...kind.harnessPorts, 22] })),
    );
    const topology = kind.create({ backend, scenario, runId, password });
    await topology.start();
    const healthy = (timeoutMs = 120_000) =>
      pollUntil(async () => ((await topology.status()).healthy ? true : undefined), timeoutMs, 500).then(
        (ok) => ok === true,
      );
    if (!(await healthy())) throw new Error(`the provisioned ${ha} cluster did not become healthy`);

    const { clientKey, clientPub, hostKey } = await makeKeys(work);
    // The provisioned repmgr runs an sshd of its own on port 22 of every member, admitting only
    // postgres with its run's key (shell-access.ts): repmgr's switchover SSHes between nodes with
    // it, as it would with a user's own setup. pgchaos's login is then another port.
    const sshPort = ha === "repmgr" ? 2222 : 22;
    const members = [];
    for (const m of topology.members()) {
      const member = backend.member(m.name);
      await startSshd(member, clientPub, hostKey, sshPort);
      const role = ROLE_OF[m.kind];
      members.push({
        name: m.name,
        host: m.address,
        ...(role ? { roles: [role] } : {}),
        // Not /var/tmp/pgchaos: the namespaces share this machine's filesystem with other runs.
        ssh: { dir: join(member.dir, "pgchaos-attach") },
        services: await servicesOf(member, m.kind, backend),
        ...extra(member, m.kind),
      });
    }
    const clusterFile = join(work, "cluster.yaml");
    writeFileSync(
      clusterFile,
      stringify({
        name: `test-${runId}`,
        ha,
        ssh: { user: "root", key: clientKey, ...(sshPort !== 22 ? { port: sshPort } : {}) },
        members,
        database: { role: "postgres", password_env: passwordEnv },
      }),
    );
    process.env[passwordEnv] = password;
    return {
      runId,
      backend,
      topology,
      work,
      clusterFile,
      passwordEnv,
      healthy,
      async pgchaosObjects() {
        const primary = (await topology.status()).primary as string;
        return withConnection(topology.endpoint(primary), async (client) => {
          const rows = await client.query<{ name: string }>(
            "select nspname as name from pg_namespace where nspname like 'pgchaos%' " +
              "union all select schemaname || '.' || tablename from pg_tables where tablename like 'pgchaos%'",
          );
          return rows.rows.map((r) => r.name);
        });
      },
      async pgchaosTables() {
        const found: string[] = [];
        for (const { name } of topology.members()) {
          const listed = await backend.member(name).exec(["nft", "list", "tables"]);
          for (const line of listed.stdout.split("\n"))
            if (line.includes("pgchaos")) found.push(`${name}: ${line}`);
        }
        return found;
      },
      destroy,
    };
  } catch (error) {
    await destroy();
    throw error;
  }
}

/**
 * A member's service as a host's init system would run it: started as `user`, exactly as the local
 * deployment starts it (its environment, argv and log), recorded in a pidfile; stopped with SIGTERM
 * and a wait. `stop` on a process already gone succeeds, as systemctl's does.
 */
export function serviceScript(options: {
  pidfile: string;
  cwd: string;
  user: string;
  env: Record<string, string>;
  argv: string[];
  log: string;
}): string {
  const env = Object.entries(options.env).map(([k, v]) => `${k}=${v}`);
  return [
    "#!/bin/sh",
    `pidfile=${options.pidfile}`,
    // A zombie is not running: a killed service stays one while its parent (the test process,
    // blocked in a synchronous pgchaos run) does not reap it.
    `alive() { s=$(ps -o stat= -p "$1" 2>/dev/null | tr -d ' ') && [ -n "$s" ] && [ "\${s#Z}" = "$s" ]; }`,
    'case "$1" in',
    "start)",
    '  if [ -f "$pidfile" ] && alive "$(cat "$pidfile")"; then exit 0; fi',
    `  cd ${options.cwd} || exit 1`,
    // setsid, setpriv and env each exec in place: $! is the service's own PID.
    `  setsid setpriv --reuid=${options.user} --regid=${options.user} --init-groups -- env -i ${env.join(" ")} ${options.argv.join(" ")} >>${options.log} 2>&1 </dev/null &`,
    '  echo $! >"$pidfile" ;;',
    "stop)",
    '  pid=$(cat "$pidfile" 2>/dev/null) || exit 0',
    '  alive "$pid" || exit 0',
    '  kill -TERM "$pid" 2>/dev/null || exit 0',
    '  while alive "$pid"; do sleep 0.2; done ;;',
    '*) echo "usage: $0 start|stop" >&2; exit 2 ;;',
    "esac",
    "",
  ].join("\n");
}

/**
 * Writes the pidfile of a service the provisioned deployment already started (found by its
 * command line among the member's processes), so that the service script's `stop` stops it.
 */
export async function adoptService(member: StartedMember, command: RegExp, pidfile: string): Promise<void> {
  const found = (await member.processes()).filter((p) => command.test(p.command));
  const oldest = found.find((p) => !found.some((q) => q.pid === p.ppid));
  if (!oldest) throw new Error(`${member.name}: no process matches ${command}`);
  await member.writeFile(pidfile, `${oldest.pid}\n`, { mode: 0o644 });
}

/**
 * A service script in the member's directory for a process the provisioned deployment started as
 * postgres (its environment, argv and log), with that process adopted: the cluster file's
 * `start`/`stop` commands for it.
 */
export async function installService(
  member: StartedMember,
  backend: StartedBackend,
  service: { name: string; argv: string[]; running: RegExp; env?: Record<string, string> },
): Promise<{ start: string; stop: string }> {
  const pidfile = join(member.dir, `${service.name}-service.pid`);
  const script = join(member.dir, `${service.name}-service.sh`);
  await member.writeFile(
    script,
    serviceScript({
      pidfile,
      cwd: member.dir,
      user: "postgres",
      env: { ...memberEnv(member, backend.stack.postgresBin), ...service.env },
      argv: service.argv,
      log: processLog(member),
    }),
    { mode: 0o755 },
  );
  await adoptService(member, service.running, pidfile);
  return { start: `${script} start`, stop: `${script} stop` };
}

/**
 * Stops and starts a service through its own commands: the deployment's process is a child of this
 * test process, whose event loop a synchronous pgchaos run blocks, so once killed it would stay a
 * zombie — and pg_autoctl and repmgrd refuse to start while their pid file names a PID that
 * kill(pid, 0) still finds. Restarted by its script, it is the script's (a host's init reaps at once).
 */
export async function restartService(member: StartedMember, service: { start: string; stop: string }) {
  for (const command of [service.stop, service.start]) {
    const done = await member.exec(["sh", "-c", command], { timeoutMs: 120_000 });
    if (done.code !== 0) throw new Error(`${command} on ${member.name}: ${done.stderr.trim()}`);
  }
}
