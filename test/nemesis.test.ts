import { describe, expect, it } from "vitest";
import { nemesisSchedule, nemesisSeed } from "../harness/faults/nemesis.ts";
import type { ScheduledFault } from "../harness/model/timeline.ts";
import { loadScenario } from "../harness/scenario/scenario.ts";
import { type ResultJson, leftovers, resultOf, runScenarioFile } from "./helpers.ts";

interface Event {
  kind: string;
  at_ns: number;
  fault?: string;
  phase?: string;
  target?: string;
  seed?: number;
  schedule?: ScheduledFault[];
  text?: string;
}

const FILE = "test/scenarios/nemesis-short.yaml";

describe("nemesis-short: a seeded random fault schedule on Patroni", () => {
  const run = runScenarioFile(FILE);
  const events = (result: ResultJson) => result.timeline as Event[];
  const nemesisOf = (result: ResultJson) => events(result).find((e) => e.kind === "nemesis");

  it("records a schedule that is exactly the one its seed gives, the seed being the run's", () => {
    const result = resultOf(run, "patroni");
    const recorded = nemesisOf(result);
    const scenario = loadScenario(FILE);
    const index = scenario.steps.findIndex((step) => step.kind === "nemesis");
    const step = scenario.steps[index];
    if (step?.kind !== "nemesis") throw new Error("the test scenario has no nemesis step");
    expect(recorded?.seed).toBe(nemesisSeed(result.seed, index));
    expect(recorded?.schedule).toEqual(nemesisSchedule(step, recorded?.seed as number));
    expect(recorded?.schedule?.length).toBeGreaterThanOrEqual(3);
  });

  it("injects every scheduled fault in order, no earlier than scheduled, and heals each", () => {
    const result = resultOf(run, "patroni");
    const recorded = nemesisOf(result);
    const injects = events(result).filter((e) => e.kind === "fault" && e.phase === "inject");
    const heals = events(result).filter((e) => e.kind === "fault" && e.phase === "heal");
    // A fault the cluster's state made impossible (no primary mid-failover) is skipped, and says so.
    const skipped = events(result)
      .filter((e) => e.kind === "step" && e.text?.startsWith("nemesis skipped "))
      .map((e) => e.text ?? "");
    let next = 0;
    for (const planned of recorded?.schedule ?? []) {
      const label = `${planned.fault} ${planned.target}`;
      const inject = injects[next];
      if (inject && `${inject.fault} ${inject.target}` === label) {
        expect(inject.at_ns).toBeGreaterThanOrEqual((recorded?.at_ns ?? 0) + planned.at_ms * 1e6);
        next += 1;
      } else {
        const skip = skipped.findIndex((text) => text.startsWith(`nemesis skipped ${label}: `));
        expect(skip, `${label} neither injected nor skipped`).toBeGreaterThanOrEqual(0);
        skipped.splice(skip, 1);
      }
    }
    expect(next).toBe(injects.length);
    expect(skipped).toEqual([]);
    expect(heals).toHaveLength(injects.length);
    expect(result.problems).toEqual([]);
    expect(result.figures.lost_writes).toBe(0);
  });

  it("leaves nothing behind", () => {
    for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
  });
});
