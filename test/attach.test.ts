import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import type { StartedBackend } from "../harness/backend/backend.ts";
import { withConnection } from "../harness/topology/sql.ts";
import type { Topology } from "../harness/topology/topology.ts";
import { type AttachFixture, provisionForAttach } from "./attach-fixture.ts";
import {
  type CliResult,
  ROOT,
  type ScenarioRun,
  faultWindows,
  historyOf,
  interruptedRun,
  leftovers,
  pgchaos,
  resultOf,
  runScenarioFile,
} from "./helpers.ts";
import { patroniServices } from "./patroni-services.ts";

const SCENARIO = join(ROOT, "scenarios/kill-primary.yaml");

let fixture: AttachFixture;
let backend: StartedBackend;
let topology: Topology;
let work: string;
let clusterFile: string;
let runId: string;

const healthy = () => fixture.healthy();
const pgchaosObjects = () => fixture.pgchaosObjects();
const pgchaosTables = () => fixture.pgchaosTables();

describe("attach: kill-primary on a running Patroni cluster, over SSH only", () => {
  let run: ScenarioRun;
  let refused: CliResult;

  beforeAll(async () => {
    fixture = await provisionForAttach("patroni", SCENARIO, patroniServices);
    ({ backend, topology, work, clusterFile, runId } = fixture);
    // The safety gate first: without --yes (or allow_faults) nothing runs.
    refused = pgchaos(["run", SCENARIO, "--cluster", clusterFile, "--out", join(work, "refused")]);
    run = runScenarioFile("kill-primary.yaml", ["--topology", "patroni", "--cluster", clusterFile, "--yes"]);
  });

  afterAll(() => fixture?.destroy());

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

  it("entrypoint uri: writers hand the cluster file's own connection string to libpq, and write again after the failover", () => {
    const file = parse(readFileSync(clusterFile, "utf8")) as Record<string, unknown>;
    const hosts = topology.postgresMembers().map((n) => `${backend.member(n).address}:5432`);
    const uri = `postgresql://${hosts.join(",")}/postgres?target_session_attrs=read-write&connect_timeout=2`;
    file.entrypoints = [{ kind: "uri", uri }];
    const withUri = join(work, "with-uri.yaml");
    writeFileSync(withUri, stringify(file));
    const uriRun = runScenarioFile("kill-primary-uri.yaml", [
      "--topology",
      "patroni",
      "--cluster",
      withUri,
      "--yes",
    ]);
    const result = resultOf(uriRun, "patroni");
    expect(uriRun.cli.stdout).toContain(`uri writers connect with ${uri}`);
    expect(result.problems).toEqual([]);
    const kill = faultWindows(result)[0];
    const uriAcks = historyOf(uriRun, "patroni").filter(
      (w) =>
        w.group === "uri" && w.outcome === "ok" && w.invoke_ns > (kill?.from_ns ?? Number.POSITIVE_INFINITY),
    );
    expect(uriAcks.length).toBeGreaterThan(0);
    expect(result.figures.lost_writes).toBe(0);
    expect(result.verdict).toBe("pass");
    expect(leftovers(result.run_id)).toEqual([]);
  });

  it("doctor --cluster: all ok on the healthy cluster; an unreachable host and a missing service command each one line with its fix, exit 2", () => {
    const ok = pgchaos(["doctor", "--cluster", clusterFile]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    const lines = ok.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^cluster test-\w+ \(patroni, 6 members, over ssh\):$/);
    expect(lines.slice(1).filter((line) => !line.startsWith("ok "))).toEqual([]);
    expect(lines).toContainEqual(
      expect.stringMatching(/^ok +n1: ssh root@\S+, commands as root \(root login\)$/),
    );
    expect(lines).toContainEqual(expect.stringMatching(/^ok +n2: nftables$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ok +patroni reports: /));
    expect(lines).toContain("ok      role postgres may create the run's own schema in postgres");

    const file = parse(readFileSync(clusterFile, "utf8")) as {
      members: { name: string; ssh: Record<string, unknown>; services?: Record<string, unknown> }[];
    };
    const [n1, n2] = file.members;
    if (!n1 || !n2) throw new Error("cluster file without n1, n2");
    n1.ssh.port = 2222; // nothing listens there
    n2.services = {
      ...n2.services,
      ha_agent: { stop: "nosuchctl stop patroni", start: "nosuchctl start patroni" },
    };
    const broken = join(work, "broken.yaml");
    writeFileSync(broken, stringify(file));
    const bad = pgchaos(["doctor", "--cluster", broken]);
    expect(bad.code, bad.stdout + bad.stderr).toBe(2);
    const problems = bad.stdout.split("\n").filter((line) => line.startsWith("MISSING"));
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(
      /^MISSING n1: ssh root@\S+: ssh to n1 failed .* — fix: check host, port, user and key for n1/,
    );
    expect(problems[1]).toMatch(
      /^MISSING n2: ha_agent stop: nosuchctl stop patroni \(no nosuchctl\) — fix: set services\.ha_agent\.stop for n2/,
    );
    expect(problems[2]).toMatch(/^MISSING n2: ha_agent start: nosuchctl start patroni/);
    // The HA manager is not asked while a host is unreachable: no second-order failures.
    expect(bad.stdout).not.toMatch(/patroni reports/);
    // Its SSH sessions are closed and their directories gone.
    expect(readdirSync(tmpdir()).filter((entry) => /^pgchaos-doc[0-9a-f]+-ssh-/.test(entry))).toEqual([]);
  });

  it("known_hosts: hosts whose keys it lists are reached; with a file that lacks them, every host is refused", () => {
    const file = parse(readFileSync(clusterFile, "utf8")) as {
      members: { host: string }[];
      known_hosts?: string;
    };
    const hostKey = readFileSync(join(work, "host.pub"), "utf8").trim().split(" ").slice(0, 2).join(" ");
    const known = join(work, "known_hosts");
    writeFileSync(known, file.members.map((m) => `${m.host} ${hostKey}\n`).join(""));
    file.known_hosts = known;
    const strict = join(work, "strict.yaml");
    writeFileSync(strict, stringify(file));
    const ok = pgchaos(["doctor", "--cluster", strict]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);

    writeFileSync(known, "");
    const refused = pgchaos(["doctor", "--cluster", strict]);
    expect(refused.code).toBe(2);
    const problems = refused.stdout.split("\n").filter((line) => line.startsWith("MISSING"));
    expect(problems).toHaveLength(file.members.length);
    for (const line of problems) expect(line).toMatch(/Host key verification failed/);
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
    await fixture.destroy();
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
