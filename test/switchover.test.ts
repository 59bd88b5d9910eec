import { describe, expect, it } from "vitest";
import { leftovers, resultOf, runScenarioFile } from "./helpers.ts";

describe("switchover on Patroni and pg_auto_failover", () => {
  const run = runScenarioFile("switchover.yaml");

  for (const topology of ["patroni", "pg_auto_failover"]) {
    it(`${topology}: one promotion to a new timeline, nothing lost, a short outage`, () => {
      const result = resultOf(run, topology);
      expect(result.problems).toEqual([]);
      expect(result.figures.promotions).toBe(1);
      expect(result.promotions[0]?.timeline).toBe(2);
      expect(result.figures.lost_writes).toBe(0);
      expect(result.figures.split_brain).toBe(false);
      // Writes go on while the switchover prepares: the outage is the demotion-to-promotion window only.
      expect(result.figures.rto_s as number).toBeGreaterThan(0);
      expect(result.figures.rto_s as number).toBeLessThan(15);
      expect(result.verdict).toBe("pass");
    });
  }

  it("exits 0 and leaves nothing behind", () => {
    expect(run.cli.code).toBe(0);
    for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
  });
});
