import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StartedBackend } from "../harness/backend/backend.ts";
import { dataDirOf, runOnMember } from "../harness/topology/members.ts";
import { autoctlEnv } from "../harness/topology/pg-auto-failover/pg-auto-failover.ts";
import { withConnection } from "../harness/topology/sql.ts";
import { type AttachFixture, provisionForAttach } from "./attach-fixture.ts";
import { ROOT, type ScenarioRun, leftovers, pgchaos, resultOf, runScenarioFile } from "./helpers.ts";
import { killAutoctl, pgAutoFailoverServices } from "./pg-auto-failover-services.ts";

/**
 * Issue 14 for pg_auto_failover: a formation the local backend starts and leaves running, then a
 * separate `pgchaos run --cluster` that knows it only through the cluster file, SSH, and TCP to
 * PostgreSQL — who is primary is what the monitor says.
 */
const SCENARIO = join(ROOT, "scenarios/kill-primary.yaml");

let fixture: AttachFixture;

describe("attach: kill-primary on a running pg_auto_failover formation, over SSH only", () => {
  let run: ScenarioRun;
  let backend: StartedBackend;

  beforeAll(async () => {
    fixture = await provisionForAttach("pg_auto_failover", SCENARIO, pgAutoFailoverServices);
    backend = fixture.backend;
    // An operator's formation names its nodes as the operator did (node_1, … by default), not as
    // the cluster file does: the monitor is told other names, the file keeps n1…n3.
    for (const node of fixture.topology.postgresMembers()) {
      const member = backend.member(node);
      await runOnMember(
        backend,
        member,
        ["pg_autoctl", "set", "node", "metadata", "--name", `node_${node}`, "--pgdata", dataDirOf(member)],
        { env: autoctlEnv(member) },
      );
    }
    run = runScenarioFile("kill-primary.yaml", [
      "--topology",
      "pg_auto_failover",
      "--cluster",
      fixture.clusterFile,
      "--yes",
    ]);
  });

  afterAll(() => fixture?.destroy());

  it("passes with the provisioned run's expectations", () => {
    const result = resultOf(run, "pg_auto_failover");
    expect(run.cli.stdout).toMatch(
      /attaching to pg_auto_failover cluster test-\w+: n1, n2, n3, monitor \(over ssh\)/,
    );
    expect(result.backend).toBe("ssh");
    expect(result.problems).toEqual([]);
    expect(result.expectations.filter((e) => !e.pass)).toEqual([]);
    expect(result.verdict).toBe("pass");
    expect(run.cli.code).toBe(0);
  });

  it("reads one promotion from the monitor's events under the file's names, loses nothing, and bounds the RTO by the monitor's settings", () => {
    const result = resultOf(run, "pg_auto_failover") as ReturnType<typeof resultOf> & {
      rto_bound: { bound_s: number } | null;
    };
    expect(result.figures.promotions).toBe(1);
    expect(result.promotions).toHaveLength(1);
    const [promotion] = result.promotions;
    expect(promotion?.source).toBe("pg_auto_failover history");
    const killed = result.timeline.find((e) => e.kind === "fault")?.members?.[0];
    expect(["n1", "n2", "n3"]).toContain(killed);
    expect(["n1", "n2", "n3"].filter((n) => n !== killed)).toContain(promotion?.member);
    expect(result.final.primary).toBe(promotion?.member);
    expect(result.figures.lost_writes).toBe(0);
    expect(result.lost_write_ids).toEqual([]);
    expect(result.figures.acknowledged_writes as number).toBeGreaterThan(100);
    // The monitor's own settings (provisioned from the scenario's fast profile): 3 s + 5 s + 4 rounds.
    expect(result.rto_bound?.bound_s).toBe(12);
    const rto = result.figures.rto_s as number;
    // Nothing is promoted before node_considered_unhealthy_timeout (3 s) has run out after the kill.
    expect(rto).toBeGreaterThan(3);
    expect(rto).toBeLessThan(30);
  });

  it("leaves the formation healthy with its 3 nodes, and nothing of pgchaos's on it", async () => {
    const { topology } = fixture;
    expect(await fixture.healthy()).toBe(true);
    const status = await topology.status();
    expect([status.primary, ...status.replicas].sort()).toEqual(["n1", "n2", "n3"]);
    const attached = resultOf(run, "pg_auto_failover").run_id;
    const steps = resultOf(run, "pg_auto_failover").timeline.filter((e) => e.kind === "step");
    expect(steps.map((e) => e.text)).toContain(`dropped schema pgchaos_${attached}`);
    expect(await fixture.pgchaosObjects()).toEqual([]);
    expect(await fixture.pgchaosTables()).toEqual([]);
    for (const { name } of topology.members())
      expect(existsSync(join(backend.member(name).dir, "pgchaos-attach")), name).toBe(false);
    expect(leftovers(attached)).toEqual([]);
  });

  it("doctor --cluster: every check ok, the monitor's view under the file's names", () => {
    const ok = pgchaos(["doctor", "--cluster", fixture.clusterFile]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    const lines = ok.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^cluster test-\w+ \(pg_auto_failover, 4 members, over ssh\):$/);
    expect(lines.slice(1).filter((line) => !line.startsWith("ok "))).toEqual([]);
    expect(lines).toContainEqual(
      expect.stringMatching(/^ok +pg_auto_failover reports: primary n[123], 2 streaming$/),
    );
  });

  it("pgchaos heal --cluster restarts a SIGKILLed node agent and monitor, drops a schema left behind, then finds nothing", async () => {
    const { topology } = fixture;
    const status = await topology.status();
    const dead = status.replicas[0] as string;
    // What a run killed mid-fault would leave: kill-agent's work on a node and on the monitor, its schema.
    const killed = [
      ...(await killAutoctl(backend.member(dead))),
      ...(await killAutoctl(backend.member("monitor"))),
    ];
    expect(killed).toHaveLength(6);
    await withConnection(topology.endpoint(status.primary as string), (client) =>
      client.query("create schema pgchaos_zz; create table pgchaos_zz.pgchaos_ledger (id int)"),
    );

    const healed = pgchaos(["heal", "--cluster", fixture.clusterFile]);
    expect(healed.code, healed.stderr).toBe(0);
    const said = healed.stdout.trim().split("\n");
    expect(said).toContainEqual(
      expect.stringMatching(new RegExp(`^pgchaos heal: ${dead}: ha_agent was not running — started`)),
    );
    expect(said).toContainEqual(
      expect.stringMatching(/^pgchaos heal: monitor: dcs was not running — started/),
    );
    expect(said).toContainEqual(expect.stringMatching(/: dropped schema pgchaos_zz$/));
    expect(said).toHaveLength(3);
    expect(await fixture.healthy()).toBe(true);
    expect(await fixture.pgchaosObjects()).toEqual([]);
    // Each supervisor is back, once: the service's, adopting the PostgreSQL that kept running.
    for (const name of [dead, "monitor"]) {
      const supervisors = (await backend.member(name).processes()).filter((p) =>
        /^pg_autoctl run /.test(p.command),
      );
      expect(supervisors, name).toHaveLength(1);
    }
    const again = pgchaos(["heal", "--cluster", fixture.clusterFile]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.trim()).toBe(`pgchaos heal: test-${fixture.runId}: nothing to heal`);
  });

  it("tears the provisioned formation down without leftovers", async () => {
    await fixture.destroy();
    expect(leftovers(fixture.runId)).toEqual([]);
  });
});
