import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AttachFixture, provisionForAttach } from "../attach-fixture.ts";
import { outcome } from "../attach-scenarios.ts";
import {
  ROOT,
  type ResultJson,
  type ScenarioRun,
  harnessProblems,
  leftovers,
  resultOf,
  runScenarioFile,
} from "../helpers.ts";
import { pgAutoFailoverServices } from "../pg-auto-failover-services.ts";

/**
 * The scenarios beyond kill-primary (test/attach-pg-auto-failover.test.ts) on one attached
 * pg_auto_failover formation, each against the verdict the same file gives on a formation pgchaos
 * provisions itself: a clean stop, the monitor's own switchover (pg_autoctl on the monitor's host,
 * over SSH), and an isolation with a client group placed beside the primary (a helper over SSH).
 */
const SCENARIOS = ["stop-primary.yaml", "switchover.yaml", "isolate-primary.yaml"] as const;
type ScenarioFile = (typeof SCENARIOS)[number];
const HA = "pg_auto_failover";

const provisioned = new Map<ScenarioFile, ScenarioRun>();
const attached = new Map<ScenarioFile, ScenarioRun>();
let fixture: AttachFixture;

/** The same file provisioned first (so that only one cluster runs at a time), then attached in order. */
beforeAll(async () => {
  for (const file of SCENARIOS) provisioned.set(file, runScenarioFile(file, ["--topology", HA]));
  fixture = await provisionForAttach(HA, join(ROOT, "scenarios/kill-primary.yaml"), pgAutoFailoverServices);
});

afterAll(() => fixture?.destroy());

const attach = (file: ScenarioFile) => {
  const run = runScenarioFile(file, ["--topology", HA, "--cluster", fixture.clusterFile, "--yes"]);
  attached.set(file, run);
  return resultOf(run, HA);
};
const local = (file: ScenarioFile) => resultOf(provisioned.get(file) as ScenarioRun, HA);

const events = (result: ResultJson) =>
  result.timeline.filter((e) => e.kind === "ha").map((e) => `${e.member}: ${e.text}`);

/** The three nodes settled under one primary, each with its pg_autoctl, and nothing of pgchaos's left. */
async function healthyWithAgents(): Promise<void> {
  expect(await fixture.healthy()).toBe(true);
  const { backend, topology } = fixture;
  for (const { name } of topology.members()) {
    const running = (await backend.member(name).processes()).filter((p) =>
      /^pg_autoctl run /.test(p.command),
    );
    expect(running, `pg_autoctl run on ${name}`).toHaveLength(1);
  }
  expect(await fixture.pgchaosObjects()).toEqual([]);
  expect(await fixture.pgchaosTables()).toEqual([]);
}

describe("attach: stop-primary, switchover and isolate-primary on a running pg_auto_failover formation", () => {
  it("stop-primary: the same verdict as provisioned (pass, 1 promotion, 0 lost); the stopped primary rejoins", async () => {
    const before = (await fixture.topology.status()).primary as string;
    const result = attach("stop-primary.yaml");
    expect(outcome(local("stop-primary.yaml"))).toEqual({
      verdict: "pass",
      failed: [],
      promotions: 1,
      lost_writes: 0,
    });
    expect(outcome(result)).toEqual(outcome(local("stop-primary.yaml")));
    expect(result.backend).toBe("ssh");
    expect(result.problems).toEqual([]);
    expect(result.promotions[0]?.source).toBe("pg_auto_failover history");
    expect(result.promotions[0]?.member).not.toBe(before);
    // The stop really stopped it: the monitor lost it, and after the heal it came back as a standby.
    const said = events(result);
    expect(said).toContainEqual(expect.stringMatching(new RegExp(`^${before}: .*is marked as unhealthy`)));
    expect(said).toContainEqual(expect.stringMatching(new RegExp(`^${before}: \\w+ → secondary: `)));
    await healthyWithAgents();
    expect((await fixture.topology.status()).replicas).toContain(before);
  });

  it("switchover: the same verdict as provisioned (pass, 1 promotion, 0 lost), run by pg_autoctl on the monitor over SSH", async () => {
    const before = (await fixture.topology.status()).primary as string;
    const result = attach("switchover.yaml");
    expect(outcome(local("switchover.yaml"))).toEqual({
      verdict: "pass",
      failed: [],
      promotions: 1,
      lost_writes: 0,
    });
    expect(outcome(result)).toEqual(outcome(local("switchover.yaml")));
    expect(result.problems).toEqual([]);
    expect(events(result)).toContainEqual(
      expect.stringMatching(new RegExp(`^${before}: primary → draining: .*user-initiated failover`)),
    );
    await healthyWithAgents();
    expect((await fixture.topology.status()).primary).not.toBe(before);
  });

  it("isolate-primary: the same verdict as provisioned — the isolated primary stays writable beside the new one until its walsenders time out", async () => {
    const before = (await fixture.topology.status()).primary as string;
    const result = attach("isolate-primary.yaml");
    expect(outcome(result)).toEqual(outcome(local("isolate-primary.yaml")));
    expect(outcome(result).promotions).toBe(1);
    expect(outcome(result).lost_writes).toBe(0);
    expect(harnessProblems(result)).toEqual([]);
    // The group placed beside the primary ran on its host, over SSH.
    const run = attached.get("isolate-primary.yaml") as ScenarioRun;
    expect(run.cli.stdout).toContain(`client group app-beside-primary placed on ${before}`);
    // pg_auto_failover demotes the old primary by itself once it reaches the monitor again.
    await healthyWithAgents();
    expect((await fixture.topology.status()).replicas).toContain(before);
  });

  it("tears the provisioned formation down, and nothing of any run is left", async () => {
    await fixture.destroy();
    expect(leftovers(fixture.runId)).toEqual([]);
    for (const run of [...provisioned.values(), ...attached.values()])
      for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
  });
});
