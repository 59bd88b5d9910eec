import { describe, expect, it } from "vitest";
import {
  faultWindows,
  harnessProblems,
  historyOf,
  leftovers,
  resultOf,
  runScenarioFile,
} from "../helpers.ts";

// In the full matrix: test/docker-backend.test.ts checks that members are dialled at their own
// addresses (what libpq's multi-host URI needs); this is that need met end to end.
describe("kill-primary-uri on the Docker backend: libpq's multi-host URI moves on from the dead primary", () => {
  const topologies = ["pg_auto_failover", "patroni", "repmgr"];
  const run = runScenarioFile("kill-primary-uri.yaml", ["--backend", "docker"]);

  for (const topology of topologies) {
    it(`${topology}: the uri writers write again after the failover, nothing lost`, () => {
      const result = resultOf(run, topology);
      expect(harnessProblems(result)).toEqual([]);
      expect(result.figures.lost_writes).toBe(0);
      const uri = historyOf(run, topology).filter((w) => w.group === "uri");
      const kill = faultWindows(result)[0];
      expect(
        uri.some((w) => w.outcome === "ok" && w.invoke_ns > (kill?.from_ns ?? Number.POSITIVE_INFINITY)),
      ).toBe(true);
      expect(result.verdict).toBe("pass");
    });
  }

  it("leaves nothing behind", () => {
    for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
  });
});
