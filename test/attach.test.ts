import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import type { StartedBackend } from "../harness/backend/backend.ts";
import { LocalBackend } from "../harness/backend/local.ts";
import { pollUntil } from "../harness/common/clock.ts";
import { loadScenario } from "../harness/scenario/scenario.ts";
import { memberEnv, processLog } from "../harness/topology/members.ts";
import { patroni } from "../harness/topology/patroni.ts";
import { withConnection } from "../harness/topology/sql.ts";
import type { Topology } from "../harness/topology/topology.ts";
import {
  type CliResult,
  ROOT,
  type ScenarioRun,
  interruptedRun,
  leftovers,
  pgchaos,
  resultOf,
  runScenarioFile,
} from "./helpers.ts";
import { makeKeys, startSshd } from "./sshd.ts";

/**
 * Issue 14's acceptance shape, Patroni only: a cluster the local backend starts and leaves running,
 * with an sshd in every member's namespace, then a separate `pgchaos run --cluster` that knows it
 * only through a cluster file, SSH, and TCP to PostgreSQL and Patroni's REST port.
 */

const SCENARIO = join(ROOT, "scenarios/kill-primary.yaml");
const PASSWORD_ENV = "PGCHAOS_ATTACH_TEST_PASSWORD";
const runId = `a${randomBytes(2).toString("hex")}`;
const password = randomBytes(8).toString("hex");
const scenario = loadScenario(SCENARIO);

let builder: LocalBackend;
let backend: StartedBackend;
let topology: Topology;
let work: string;
let clusterFile: string;

/**
 * The member's Patroni as a service: started exactly as the local deployment starts it (as
 * postgres, its environment, its config, appending to its log), stopped with SIGTERM and a wait.
 */
function serviceScript(name: string): string {
  const member = backend.member(name);
  const env = Object.entries(memberEnv(member, backend.stack.postgresBin)).map(([k, v]) => `${k}=${v}`);
  return [
    "#!/bin/sh",
    `pidfile=${member.dir}/patroni.pid`,
    'case "$1" in',
    "start)",
    '  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then exit 0; fi',
    `  cd ${member.dir} || exit 1`,
    // setsid, setpriv and env each exec in place: $! is Patroni's own PID.
    `  setsid setpriv --reuid=postgres --regid=postgres --init-groups -- env -i ${env.join(" ")} /usr/bin/patroni ${member.dir}/patroni.yml >>${processLog(member)} 2>&1 </dev/null &`,
    '  echo $! >"$pidfile" ;;',
    "stop)",
    '  pid=$(cat "$pidfile" 2>/dev/null) || exit 0',
    '  kill -TERM "$pid" 2>/dev/null || exit 0',
    '  while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done ;;',
    '*) echo "usage: $0 start|stop" >&2; exit 2 ;;',
    "esac",
    "",
  ].join("\n");
}

const healthy = () =>
  pollUntil(async () => ((await topology.status()).healthy ? true : undefined), 120_000, 500);

/** Names of pgchaos's tables and schemas on the cluster's primary. */
async function pgchaosObjects(): Promise<string[]> {
  const primary = (await topology.status()).primary as string;
  return withConnection(topology.endpoint(primary), async (client) => {
    const rows = await client.query<{ name: string }>(
      "select nspname as name from pg_namespace where nspname like 'pgchaos%' " +
        "union all select schemaname || '.' || tablename from pg_tables where tablename like 'pgchaos%'",
    );
    return rows.rows.map((r) => r.name);
  });
}

/** nftables tables in every member's namespace whose name says pgchaos. */
async function pgchaosTables(): Promise<string[]> {
  const found: string[] = [];
  for (const { name } of topology.members()) {
    const listed = await backend.member(name).exec(["nft", "list", "tables"]);
    for (const line of listed.stdout.split("\n"))
      if (line.includes("pgchaos")) found.push(`${name}: ${line}`);
  }
  return found;
}

describe("attach: kill-primary on a running Patroni cluster, over SSH only", () => {
  let run: ScenarioRun;
  let refused: CliResult;

  beforeAll(async () => {
    builder = new LocalBackend(runId);
    backend = await builder.start(
      patroni.members(scenario).map(({ name }) => ({ name, ports: [...patroni.harnessPorts, 22] })),
    );
    topology = patroni.create({ backend, scenario, runId, password });
    await topology.start();
    expect(await healthy()).toBe(true);

    work = mkdtempSync(join(tmpdir(), "pgchaos-test-attach-"));
    const { clientKey, clientPub: pub, hostKey } = await makeKeys(work);
    const nodes = topology.postgresMembers();
    for (const { name } of topology.members()) {
      const member = backend.member(name);
      await startSshd(member, pub, hostKey);
      if (nodes.includes(name))
        await member.writeFile(join(member.dir, "patroni-service.sh"), serviceScript(name), { mode: 0o755 });
    }
    clusterFile = join(work, "cluster.yaml");
    const service = (name: string) => {
      const script = join(backend.member(name).dir, "patroni-service.sh");
      return { start: `${script} start`, stop: `${script} stop` };
    };
    writeFileSync(
      clusterFile,
      stringify({
        name: `test-${runId}`,
        ha: "patroni",
        ssh: { user: "root", key: clientKey },
        members: topology.members().map((m) => ({
          name: m.name,
          host: m.address,
          roles: m.kind === "postgres" ? ["postgres"] : ["dcs"],
          // Not /var/tmp/pgchaos: the namespaces share this machine's filesystem with other runs.
          ssh: { dir: join(backend.member(m.name).dir, "pgchaos-attach") },
          ...(m.kind === "postgres"
            ? { services: { ha_agent: service(m.name), postgres: service(m.name) } }
            : {}),
        })),
        database: { role: "postgres", password_env: PASSWORD_ENV },
      }),
    );
    process.env[PASSWORD_ENV] = password;
    // The safety gate first: without --yes (or allow_faults) nothing runs.
    refused = pgchaos(["run", SCENARIO, "--cluster", clusterFile, "--out", join(work, "refused")]);
    run = runScenarioFile("kill-primary.yaml", ["--topology", "patroni", "--cluster", clusterFile, "--yes"]);
  });

  afterAll(async () => {
    delete process.env[PASSWORD_ENV];
    await builder?.destroy();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("refuses a scenario with faults without --yes or allow_faults, before connecting", () => {
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim().split("\n")).toHaveLength(1);
    expect(refused.stderr).toMatch(/injects faults into cluster test-\w+: add --yes, or allow_faults: true/);
    expect(refused.stdout).not.toMatch(/attaching/);
  });

  it("passes with the provisioned run's expectations", () => {
    const result = resultOf(run, "patroni");
    expect(run.cli.stdout).toMatch(
      /attaching to patroni cluster test-\w+: n1, n2, n3, e1, e2, e3 \(over ssh\)/,
    );
    expect(result.backend).toBe("ssh");
    expect(result.problems).toEqual([]);
    expect(result.expectations.filter((e) => !e.pass)).toEqual([]);
    expect(result.verdict).toBe("pass");
    expect(run.cli.code).toBe(0);
  });

  it("reads one promotion from Patroni's /history, loses nothing, and measures the RTO", () => {
    const result = resultOf(run, "patroni");
    expect(result.figures.promotions).toBe(1);
    expect(result.promotions).toHaveLength(1);
    expect(result.promotions[0]?.source).toBe("patroni history");
    expect(result.figures.lost_writes).toBe(0);
    expect(result.lost_write_ids).toEqual([]);
    expect(result.figures.acknowledged_writes as number).toBeGreaterThan(100);
    const rto = result.figures.rto_s as number;
    // Patroni cannot promote before its ttl (10 s) runs out after the kill; the scenario expects < 30 s.
    expect(rto).toBeGreaterThan(2);
    expect(rto).toBeLessThan(30);
  });

  it("leaves the cluster healthy with its 3 members, and nothing of pgchaos's on it", async () => {
    expect(await healthy()).toBe(true);
    const status = await topology.status();
    expect([status.primary, ...status.replicas].sort()).toEqual(["n1", "n2", "n3"]);
    // The workload's tables lived in the run's own schema, dropped at the end; nothing is left.
    const attached = resultOf(run, "patroni").run_id;
    const steps = resultOf(run, "patroni").timeline.filter((e) => e.kind === "step");
    expect(steps.map((e) => (e as { text?: string }).text)).toContain(`dropped schema pgchaos_${attached}`);
    expect(await pgchaosObjects()).toEqual([]);
    expect(await pgchaosTables()).toEqual([]);
    for (const { name } of topology.members())
      expect(existsSync(join(backend.member(name).dir, "pgchaos-attach")), name).toBe(false);
    expect(leftovers(attached)).toEqual([]);
  });

  it("pgchaos heal --cluster undoes what a killed run leaves (table, frozen agent, dead agent, schema), then finds nothing", async () => {
    const status = await topology.status();
    const [frozen, dead] = status.replicas as [string, string];
    const agentOf = async (name: string) => {
      const agent = (await backend.member(name).processes()).find((p) => /bin\/patroni /.test(p.command));
      if (!agent) throw new Error(`no Patroni on ${name}`);
      return agent.pid;
    };
    // What a run killed mid-fault would leave: its nft table, a freeze not thawed, a kill not healed, its schema.
    await backend.member(frozen).exec(["nft", "add", "table", "inet", "pgchaos_zz_partition"]);
    await backend.member(frozen).signal(await agentOf(frozen), "SIGSTOP");
    await backend.member(dead).signal(await agentOf(dead), "SIGKILL");
    await withConnection(topology.endpoint(status.primary as string), (client) =>
      client.query("create schema pgchaos_zz; create table pgchaos_zz.pgchaos_ledger (id int)"),
    );
    expect(await pgchaosTables()).toHaveLength(1);
    expect(await pgchaosObjects()).toContain("pgchaos_zz");

    const healed = pgchaos(["heal", "--cluster", clusterFile]);
    expect(healed.code, healed.stderr).toBe(0);
    const said = healed.stdout.trim().split("\n");
    expect(said).toContainEqual(
      expect.stringMatching(new RegExp(`^pgchaos heal: ${frozen}: SIGCONT to \\d+`)),
    );
    expect(said).toContain(`pgchaos heal: ${frozen}: removed nft table pgchaos_zz_partition`);
    expect(said).toContainEqual(
      expect.stringMatching(new RegExp(`^pgchaos heal: ${dead}: ha_agent was not running — started`)),
    );
    expect(said).toContainEqual(expect.stringMatching(/: dropped schema pgchaos_zz$/));
    expect(await healthy()).toBe(true);
    expect(await pgchaosTables()).toEqual([]);
    expect(await pgchaosObjects()).toEqual([]);
    const again = pgchaos(["heal", "--cluster", clusterFile]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.trim()).toBe(`pgchaos heal: test-${runId}: nothing to heal`);
  });

  /** Processes of the cluster in state T (stopped), on every member's host. */
  const stopped = async () => {
    const found: string[] = [];
    for (const { name } of topology.members()) {
      const member = backend.member(name);
      const pids = (await member.processes()).map((p) => String(p.pid));
      const script =
        'for p in "$@"; do [ "$(cut -d" " -f3 /proc/$p/stat 2>/dev/null)" = T ] && echo "$p"; done; exit 0';
      const listed = await member.exec(["sh", "-c", script, "sh", ...pids]);
      for (const pid of listed.stdout.split("\n").filter(Boolean)) found.push(`${name}: ${pid}`);
    }
    return found;
  };
  /** The attach-interrupt scenario on this cluster, sent `signal` once its freeze is in force. */
  const interrupt = (signal: NodeJS.Signals) =>
    interruptedRun(
      signal,
      [
        join(ROOT, "test/scenarios/attach-interrupt.yaml"),
        "--cluster",
        clusterFile,
        "--yes",
        "--out",
        mkdtempSync(join(work, "interrupted-")),
      ],
      "fault injected: freeze",
    );

  it("interrupted with SIGINT mid-freeze: thaws the replica, drops its schema, exits 130", async () => {
    const { code, stdout } = await interrupt("SIGINT");
    expect(stdout).toContain("SIGINT: tearing down");
    expect(code).toBe(130);
    expect(await stopped()).toEqual([]);
    expect(await pgchaosObjects()).toEqual([]);
    expect(await pgchaosTables()).toEqual([]);
    expect(await healthy()).toBe(true);
  });

  it("killed with SIGKILL mid-freeze: the replica stays frozen and the schema stays until pgchaos heal; cleanup ends its SSH masters", async () => {
    const { code, runId: killed } = await interrupt("SIGKILL");
    expect(code).toBeNull();
    expect((await stopped()).length).toBeGreaterThan(0);
    expect(await pgchaosObjects()).toContain(`pgchaos_${killed}`);
    const healed = pgchaos(["heal", "--cluster", clusterFile]);
    expect(healed.code, healed.stderr).toBe(0);
    expect(healed.stdout).toContain(`dropped schema pgchaos_${killed}`);
    expect(await stopped()).toEqual([]);
    expect(await pgchaosObjects()).toEqual([]);
    expect(await healthy()).toBe(true);
    // On this machine, the killed harness's SSH masters are what pgchaos cleanup removes.
    expect(leftovers(killed).length).toBeGreaterThan(0);
    const cleanup = pgchaos(["cleanup"]);
    expect(cleanup.code).toBe(0);
    expect(cleanup.stdout).toMatch(new RegExp(`run ${killed}: closed \\d+ SSH connection`));
    expect(leftovers(killed)).toEqual([]);
  });

  it("tears the provisioned cluster down without leftovers", async () => {
    await builder.destroy();
    expect(leftovers(runId)).toEqual([]);
  });
});

describe("attach: bad invocations exit 2 with one line, before connecting", () => {
  let dir: string;
  let file: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "pgchaos-test-attach-cli-"));
    file = join(dir, "cluster.yaml");
    writeFileSync(
      file,
      [
        "name: nowhere",
        "ha: patroni",
        "members:",
        // TEST-NET-1: never reached, since every one of these is refused first.
        "  - { name: n1, host: 192.0.2.1 }",
        "database: { role: app, password_env: PGCHAOS_ATTACH_CLI_UNSET }",
        "",
      ].join("\n"),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const oneLine = (args: string[], message: RegExp) => {
    const result = pgchaos(args);
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe("");
  };

  it("refuses --backend and --keep beside --cluster", () => {
    oneLine(["run", SCENARIO, "--cluster", file, "--backend", "docker"], /drop --backend$/m);
    oneLine(["run", SCENARIO, "--cluster", file, "--keep", "--yes"], /drop --keep$/m);
  });

  it("refuses another HA manager than the cluster's, and a missing password", () => {
    oneLine(["run", SCENARIO, "--cluster", file, "--topology", "repmgr"], /is a patroni cluster/);
    oneLine(["run", SCENARIO, "--cluster", file, "--yes"], /PGCHAOS_ATTACH_CLI_UNSET is not set/);
  });

  it("validates against what SSH can do", () => {
    const ok = pgchaos(["validate", SCENARIO, "--cluster", file]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/kill-primary\.yaml: ok \(kill-primary, attach to nowhere over ssh\)/);
    oneLine(
      ["validate", join(ROOT, "scenarios/io-freeze-primary.yaml"), "--cluster", file],
      /fault io-freeze needs a backend that can .*backend ssh cannot/,
    );
  });
});
