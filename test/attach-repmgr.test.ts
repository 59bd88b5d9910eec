import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StartedBackend } from "../harness/backend/backend.ts";
import type { Topology } from "../harness/topology/topology.ts";
import { type AttachFixture, provisionForAttach } from "./attach-fixture.ts";
import { ROOT, type ScenarioRun, leftovers, pgchaos, resultOf, runScenarioFile } from "./helpers.ts";
import { repmgrConfig, repmgrServices } from "./repmgr-services.ts";

/**
 * Issue 14 on repmgr: a cluster the local backend provisions and leaves running (repmgrd on every
 * node and the witness, its own sshd for repmgr's node-to-node SSH), then `pgchaos run --cluster`
 * that knows it only through the cluster file, SSH and TCP to PostgreSQL.
 */
const SCENARIO = join(ROOT, "scenarios/kill-primary.yaml");

let fixture: AttachFixture;
let backend: StartedBackend;
let topology: Topology;
let clusterFile: string;
let runId: string;
let firstPrimary: string;

describe("attach: kill-primary on a running repmgr cluster, over SSH only", () => {
  let run: ScenarioRun;

  beforeAll(async () => {
    fixture = await provisionForAttach("repmgr", SCENARIO, repmgrServices, repmgrConfig);
    ({ backend, topology, clusterFile, runId } = fixture);
    firstPrimary = (await topology.status()).primary as string;
    run = runScenarioFile("kill-primary.yaml", ["--topology", "repmgr", "--cluster", clusterFile, "--yes"]);
  });

  afterAll(() => fixture?.destroy());

  it("passes with the provisioned run's expectations", () => {
    const result = resultOf(run, "repmgr");
    expect(run.cli.stdout).toMatch(/attaching to repmgr cluster test-\w+: n1, n2, n3, witness \(over ssh\)/);
    expect(result.backend).toBe("ssh");
    expect(result.problems).toEqual([]);
    expect(result.expectations.filter((e) => !e.pass)).toEqual([]);
    expect(result.verdict).toBe("pass");
    expect(run.cli.code).toBe(0);
  });

  it("reads one promotion from repmgr.events, loses nothing, and the killed primary rejoins", () => {
    const result = resultOf(run, "repmgr");
    expect(result.figures.promotions).toBe(1);
    expect(result.promotions).toHaveLength(1);
    expect(result.promotions[0]?.source).toBe("repmgr history");
    expect(result.promotions[0]?.member).not.toBe(firstPrimary);
    expect(result.promotions[0]?.timeline).toBe(2);
    expect(result.figures.lost_writes).toBe(0);
    expect(result.lost_write_ids).toEqual([]);
    expect(result.figures.acknowledged_writes as number).toBeGreaterThan(100);
    const rto = result.figures.rto_s as number;
    // repmgrd gives up on the primary after 2 reconnects 1 s apart; the scenario expects < 30 s.
    expect(rto).toBeGreaterThan(1);
    expect(rto).toBeLessThan(30);
    // The heal rejoined the old primary the way the provisioned deployment does: node rejoin.
    const events = result.timeline.filter((e) => e.kind === "ha").map((e) => `${e.member}: ${e.text}`);
    expect(events).toContainEqual(expect.stringMatching(/^n\d: standby_promote: /));
    expect(events).toContainEqual(expect.stringMatching(new RegExp(`^${firstPrimary}: node_rejoin: `)));
  });

  it("leaves the cluster healthy with its 3 nodes, and nothing of pgchaos's on it", async () => {
    expect(await fixture.healthy()).toBe(true);
    const status = await topology.status();
    expect([status.primary, ...status.replicas].sort()).toEqual(["n1", "n2", "n3"]);
    expect(status.replicas).toContain(firstPrimary);
    // repmgrd too, the killed primary's restarted by the heal: status() alone would not notice.
    for (const { name } of topology.members()) {
      const member = backend.member(name);
      const running = (await member.processes()).some((p) => /\/repmgrd /.test(p.command));
      const log = (await member.readFile(join(member.dir, `${name}-repmgrd.log`))) ?? "";
      expect(running, `repmgrd on ${name}; its log ends:\n${log.slice(-1500)}`).toBe(true);
    }
    const attached = resultOf(run, "repmgr").run_id;
    expect(await fixture.pgchaosObjects()).toEqual([]);
    expect(await fixture.pgchaosTables()).toEqual([]);
    for (const { name } of topology.members())
      expect(existsSync(join(backend.member(name).dir, "pgchaos-attach")), name).toBe(false);
    expect(leftovers(attached)).toEqual([]);
  });

  it("pgchaos heal --cluster restarts a SIGKILLed repmgrd and a dead PostgreSQL, then finds nothing", async () => {
    const status = await topology.status();
    const [agentless, postgresless] = status.replicas as [string, string];
    const pidOf = async (member: string, command: RegExp) => {
      const found = (await backend.member(member).processes()).find((p) => command.test(p.command));
      if (!found) throw new Error(`no ${command} on ${member}`);
      return found.pid;
    };
    await backend.member(agentless).signal(await pidOf(agentless, /\/repmgrd /), "SIGKILL");
    const postmaster = new RegExp(`^${backend.stack.postgresBin}/postgres `);
    await backend.member(postgresless).signal(await pidOf(postgresless, postmaster), "SIGKILL");

    const healed = pgchaos(["heal", "--cluster", clusterFile]);
    expect(healed.code, healed.stderr).toBe(0);
    const said = healed.stdout.trim().split("\n");
    expect(said).toContainEqual(
      expect.stringMatching(new RegExp(`^pgchaos heal: ${agentless}: ha_agent was not running — started`)),
    );
    expect(said).toContainEqual(
      expect.stringMatching(
        new RegExp(`^pgchaos heal: ${postgresless}: PostgreSQL was not running — started`),
      ),
    );
    expect(said).toHaveLength(2);
    expect(await pidOf(agentless, /\/repmgrd /)).toBeGreaterThan(0);
    expect(await fixture.healthy()).toBe(true);
    const again = pgchaos(["heal", "--cluster", clusterFile]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.trim()).toBe(`pgchaos heal: test-${runId}: nothing to heal`);
  });

  it("tears the provisioned cluster down without leftovers", async () => {
    await fixture.destroy();
    expect(leftovers(runId)).toEqual([]);
  });
});
