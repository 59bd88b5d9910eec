import { describe, expect, it } from "vitest";
import { leftovers, resultOf, runScenarioFile } from "./helpers.ts";

describe("monitor-loss on pg_auto_failover", () => {
  const run = runScenarioFile("monitor-loss.yaml");

  it("keeps the primary accepting every write while the monitor is down, and promotes nobody", () => {
    const result = resultOf(run, "pg_auto_failover");
    expect(result.problems).toEqual([]);
    const kill = result.timeline.find((e) => e.kind === "fault" && e.phase === "inject");
    expect(kill?.members).toEqual(["monitor"]);
    expect(result.figures.failed_writes).toBe(0);
    expect(result.figures.max_write_gap_s as number).toBeLessThan(2);
    expect(result.figures.promotions).toBe(0);
    expect(result.figures.lost_writes).toBe(0);
    expect(result.verdict).toBe("pass");
  });

  it("sees the monitor stop answering in the cluster state it samples", () => {
    const states = resultOf(run, "pg_auto_failover").timeline.filter(
      (e) => e.kind === "ha" && e.source === "pg_auto_failover status",
    );
    expect(states.map((e) => e.text)).toContain("HA manager unreachable");
    expect(states.at(-1)?.text).toMatch(/^complete/);
  });

  it("exits 0 and leaves nothing behind", () => {
    expect(run.cli.code).toBe(0);
    for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
  });
});
