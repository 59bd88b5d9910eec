import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AttachFixture, provisionForAttach } from "../attach-fixture.ts";
import { outcome } from "../attach-scenarios.ts";
import {
  ROOT,
  type ScenarioRun,
  harnessProblems,
  leftovers,
  pgchaos,
  resultOf,
  runScenarioFile,
} from "../helpers.ts";
import { repmgrConfig, repmgrServices } from "../repmgr-services.ts";

/**
 * The scenarios beyond kill-primary (test/attach-repmgr.test.ts) on one attached repmgr cluster, each
 * against the verdict the same file gives on a cluster pgchaos provisions itself: a clean stop, the
 * HA manager's own switchover (repmgr SSHes between the nodes as postgres), and an isolation with a
 * client group placed beside the primary (a helper run over SSH).
 */
const SCENARIOS = ["stop-primary.yaml", "switchover.yaml", "isolate-primary.yaml"] as const;
type ScenarioFile = (typeof SCENARIOS)[number];

const provisioned = new Map<ScenarioFile, ScenarioRun>();
const attached = new Map<ScenarioFile, ScenarioRun>();
let fixture: AttachFixture;

/** The same file provisioned, first (so that only one cluster runs at a time), then attached in order. */
beforeAll(async () => {
  for (const file of SCENARIOS) provisioned.set(file, runScenarioFile(file, ["--topology", "repmgr"]));
  fixture = await provisionForAttach(
    "repmgr",
    join(ROOT, "scenarios/kill-primary.yaml"),
    repmgrServices,
    repmgrConfig,
  );
});

afterAll(() => fixture?.destroy());

const attach = (file: ScenarioFile) => {
  const run = runScenarioFile(file, ["--topology", "repmgr", "--cluster", fixture.clusterFile, "--yes"]);
  attached.set(file, run);
  return resultOf(run, "repmgr");
};

/** Every node and the witness run repmgrd, and the cluster is healthy under one primary. */
async function healthyWithAgents(): Promise<void> {
  expect(await fixture.healthy()).toBe(true);
  const { backend, topology } = fixture;
  for (const { name } of topology.members()) {
    const running = (await backend.member(name).processes()).some((p) => /\/repmgrd /.test(p.command));
    expect(running, `repmgrd on ${name}`).toBe(true);
  }
  expect(await fixture.pgchaosObjects()).toEqual([]);
  expect(await fixture.pgchaosTables()).toEqual([]);
}

describe("attach: stop-primary, switchover and isolate-primary on a running repmgr cluster", () => {
  it("stop-primary: the same verdict as provisioned (pass, 1 promotion, 0 lost); the stopped primary rejoins", async () => {
    const before = (await fixture.topology.status()).primary as string;
    const result = attach("stop-primary.yaml");
    const local = resultOf(provisioned.get("stop-primary.yaml") as ScenarioRun, "repmgr");
    expect(outcome(local)).toEqual({ verdict: "pass", failed: [], promotions: 1, lost_writes: 0 });
    expect(outcome(result)).toEqual(outcome(local));
    expect(result.backend).toBe("ssh");
    expect(result.problems).toEqual([]);
    expect(result.promotions[0]?.source).toBe("repmgr history");
    // The stop really stopped it: repmgrd logged its TERM, and the heal had it rejoin.
    const events = result.timeline.filter((e) => e.kind === "ha").map((e) => `${e.member}: ${e.text}`);
    expect(events).toContainEqual(expect.stringMatching(new RegExp(`^${before}: repmgrd_shutdown: `)));
    expect(events).toContainEqual(expect.stringMatching(new RegExp(`^${before}: node_rejoin: `)));
    await healthyWithAgents();
    expect((await fixture.topology.status()).replicas).toContain(before);
  });

  it("switchover: the same verdict as provisioned (pass, 1 promotion, 0 lost), run by repmgr over its own SSH", async () => {
    const before = (await fixture.topology.status()).primary as string;
    const result = attach("switchover.yaml");
    const local = resultOf(provisioned.get("switchover.yaml") as ScenarioRun, "repmgr");
    expect(outcome(local)).toEqual({ verdict: "pass", failed: [], promotions: 1, lost_writes: 0 });
    expect(outcome(result)).toEqual(outcome(local));
    expect(result.problems).toEqual([]);
    // Numbered from the timeline found at attach: the stop-primary run already made timeline 2.
    expect(result.promotions[0]?.timeline).toBe(3);
    const events = result.timeline.filter((e) => e.kind === "ha").map((e) => `${e.member}: ${e.text}`);
    expect(events).toContainEqual(expect.stringMatching(/: standby_switchover: /));
    await healthyWithAgents();
    expect((await fixture.topology.status()).primary).not.toBe(before);
  });

  it("isolate-primary: the same verdict as provisioned — repmgr keeps the isolated primary writable beside the new one", async () => {
    const before = (await fixture.topology.status()).primary as string;
    const result = attach("isolate-primary.yaml");
    const local = resultOf(provisioned.get("isolate-primary.yaml") as ScenarioRun, "repmgr");
    expect(outcome(result)).toEqual(outcome(local));
    expect(outcome(result).promotions).toBe(1);
    expect(outcome(result).lost_writes).toBe(0);
    expect(harnessProblems(result)).toEqual([]);
    // The group placed beside the primary ran on its host, over SSH.
    const run = attached.get("isolate-primary.yaml") as ScenarioRun;
    expect(run.cli.stdout).toContain(`client group app-beside-primary placed on ${before}`);
    // pgchaos does not choose whose writes a split brain discards: heal says so and fails.
    const healed = pgchaos(["heal", "--cluster", fixture.clusterFile]);
    const status = await fixture.topology.status();
    if (status.healthy) {
      expect(healed.code, healed.stderr).toBe(0);
    } else {
      expect(status.detail).toMatch(/are both writable/);
      expect(healed.code).toBe(1);
      expect(healed.stderr).toMatch(/still not healthy 120 s after the heal \(.* are both writable\)/);
    }
  });

  it("tears the provisioned cluster down, and nothing of any run is left", async () => {
    await fixture.destroy();
    expect(leftovers(fixture.runId)).toEqual([]);
    for (const run of [...provisioned.values(), ...attached.values()])
      for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
  });
});
