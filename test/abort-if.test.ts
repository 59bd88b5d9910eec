import { beforeAll, describe, expect, it } from "vitest";
import {
  type ResultJson,
  type ScenarioRun,
  faultWindows,
  historyOf,
  resultOf,
  runScenarioFile,
} from "./helpers.ts";

/**
 * abort_if (Chaos Toolkit's steady-state hypothesis as a guard), on a real Patroni cluster: the
 * primary frozen for 90 s while Patroni waits out a 30 s ttl, under a rule that allows 4 s without
 * an acknowledged write. The rule must trip at about 4 s, thaw the primary, skip the remaining
 * steps, and fail the run saying why — the clients' history and the final state still recorded.
 */
describe("abort_if write_gap stops a run, healed, with a clear verdict", () => {
  let run: ScenarioRun;
  let result: ResultJson;

  beforeAll(() => {
    run = runScenarioFile("test/scenarios/abort-if-write-gap.yaml", ["--topology", "patroni"]);
    result = resultOf(run, "patroni");
  });

  it("fails the run with the rule and the gap it saw, exit 1", () => {
    expect(run.cli.code).toBe(1);
    expect(result.verdict).toBe("fail");
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatch(
      /^abort_if write_gap > 4s: no acknowledged write for 4\.\ds — steps stopped, every fault healed$/,
    );
    expect(run.cli.stdout).toMatch(/abort_if write_gap > 4s/);
  });

  it("heals the freeze seconds after it began, not after its 90 s, and runs no later step", () => {
    const [freeze] = faultWindows(result);
    expect(freeze?.fault).toBe("freeze");
    const heldS = ((freeze?.to_ns ?? Number.NaN) - (freeze?.from_ns ?? Number.NaN)) / 1e9;
    // 4 s of gap counted from the last ack before the freeze, checked every 0.25 s, then the SIGCONT.
    expect(heldS).toBeGreaterThan(3);
    expect(heldS).toBeLessThan(10);
    const steps = result.timeline.filter((e) => e.kind === "step").map((e) => e.text ?? "");
    const afterFreeze = steps.slice(steps.findIndex((text) => text.startsWith("sleep 90")) + 1);
    expect(afterFreeze).not.toContain("wait healthy");
  });

  it("waits for the healed cluster to be healthy and writable, and still records the run: none lost, no promotion", () => {
    expect(run.cli.stdout).toMatch(/healthy and writable again \d+\.\ds after the abort's heal: leader n\d/);
    const [freeze] = faultWindows(result);
    const thawed = freeze?.to_ns ?? Number.POSITIVE_INFINITY;
    const after = historyOf(run, "patroni").filter((w) => w.outcome === "ok" && w.invoke_ns > thawed);
    expect(after.length).toBeGreaterThan(0);
    expect(result.figures.lost_writes).toBe(0);
    expect(result.figures.promotions).toBe(0);
    expect(result.figures.acknowledged_writes as number).toBeGreaterThan(50);
  });
});
