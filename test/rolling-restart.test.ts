import { describe, expect, it } from "vitest";
import { leftovers, resultOf, runScenarioFile } from "./helpers.ts";

describe("rolling-restart with new settings on all three HA managers", () => {
  const run = runScenarioFile("rolling-restart.yaml");

  for (const topology of ["patroni", "pg_auto_failover", "repmgr"]) {
    it(`${topology}: every member restarted, one switchover, nothing lost, the new settings in force`, () => {
      const result = resultOf(run, topology);
      // The step checks shared_buffers and max_connections on every member after its restart.
      expect(result.problems).toEqual([]);
      expect(result.figures.promotions).toBe(1);
      expect(result.figures.lost_writes).toBe(0);
      expect(result.final.nodes.map((node) => node.timeline)).toEqual([2, 2, 2]);
      const restarted = result.timeline.find((e) => e.kind === "fault" && e.phase === "heal")?.members ?? [];
      expect([...restarted].sort()).toEqual(["n1", "n2", "n3"]);
      expect(result.verdict).toBe("pass");
    });
  }

  it("leaves nothing behind", () => {
    for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
  });
});

describe("rolling-restart settings check: the negative control", () => {
  const run = runScenarioFile("test/scenarios/rolling-restart-port.yaml");

  it("reports each member that does not run a setting, and only that setting", () => {
    const result = resultOf(run, "repmgr");
    expect(result.verdict).toBe("fail");
    const [problem] = result.problems;
    expect(result.problems).toHaveLength(1);
    for (const member of ["n1", "n2", "n3"])
      expect(problem).toContain(`${member} runs port=5432 (wanted 5433)`);
    expect(problem).not.toContain("work_mem");
    expect(run.cli.code).toBe(1);
    for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
  });
});
