import { describe, expect, it } from "vitest";
import { WITHOUT_K8S, leftovers, resultOf, runScenarioFile, topologyFlags } from "./helpers.ts";

describe("switchover on Patroni, pg_auto_failover and repmgr", () => {
  // The file's patroni-k8s run is test/k8s's (npm run test:k8s).
  const run = runScenarioFile("switchover.yaml", topologyFlags(WITHOUT_K8S));

  for (const topology of WITHOUT_K8S) {
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
      // Every node ends on the new timeline: the old primary was demoted and follows, nobody was left behind.
      expect(result.final.nodes.map((node) => node.timeline)).toEqual([2, 2, 2]);
    });
  }

  it("repmgr: the switchover ran over SSH and repmgr recorded it", () => {
    const result = resultOf(run, "repmgr");
    const texts = result.timeline.filter((event) => event.kind === "ha").map((event) => String(event.text));
    expect(texts.some((text) => text.startsWith("standby_switchover:") && text.includes("demoted"))).toBe(
      true,
    );
  });

  it("exits 0 and leaves nothing behind", () => {
    expect(run.cli.code).toBe(0);
    for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
  });
});
