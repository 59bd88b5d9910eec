import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TopologyName } from "../harness/model/scenario.ts";
import { type AttachFixture, type ServicesOf, provisionForAttach } from "./attach-fixture.ts";
import {
  ROOT,
  type ResultJson,
  type ScenarioRun,
  harnessProblems,
  leftovers,
  resultOf,
  runScenarioFile,
} from "./helpers.ts";

/** The scenarios issue 14 asks of every HA manager on an attached cluster, beyond kill-primary. */
export const ATTACHED_SCENARIOS = ["stop-primary", "switchover", "isolate-primary"] as const;

/** What must not depend on who started the cluster: the verdict, what failed, promotions, lost writes. */
export const outcome = (result: ResultJson) => ({
  verdict: result.verdict,
  failed: result.expectations.filter((e) => !e.pass).map((e) => e.key),
  promotions: result.figures.promotions,
  lost_writes: result.figures.lost_writes,
});

/**
 * Each scenario first on a cluster pgchaos provisions (one cluster at a time), then attached in turn
 * to one provisioned-and-left-running cluster through the cluster file and SSH only: the attached
 * outcome must equal the provisioned one — a pass where the HA manager passes, the same failure
 * where it fails — and no run may leave anything of pgchaos's behind.
 */
export function describeAttachedScenarios(
  ha: TopologyName,
  servicesOf: ServicesOf,
  extra?: Parameters<typeof provisionForAttach>[3],
): void {
  describe(`attach: ${ATTACHED_SCENARIOS.join(", ")} on a running ${ha} cluster, against provisioned runs`, () => {
    const provisioned = new Map<string, ScenarioRun>();
    let fixture: AttachFixture;

    beforeAll(async () => {
      for (const scenario of ATTACHED_SCENARIOS)
        provisioned.set(scenario, runScenarioFile(`${scenario}.yaml`, ["--topology", ha]));
      fixture = await provisionForAttach(ha, join(ROOT, "scenarios/kill-primary.yaml"), servicesOf, extra);
    });
    afterAll(() => fixture?.destroy());

    for (const scenario of ATTACHED_SCENARIOS) {
      it(`${scenario}: the provisioned run's outcome, one promotion, nothing lost, nothing of pgchaos's left`, async () => {
        const local = resultOf(provisioned.get(scenario) as ScenarioRun, ha);
        const run = runScenarioFile(`${scenario}.yaml`, [
          "--topology",
          ha,
          "--cluster",
          fixture.clusterFile,
          "--yes",
        ]);
        const result = resultOf(run, ha);
        expect(result.backend).toBe("ssh");
        expect(harnessProblems(result)).toEqual([]);
        expect(outcome(result)).toEqual(outcome(local));
        expect(outcome(result).promotions).toBe(1);
        expect(outcome(result).lost_writes).toBe(0);
        expect(await fixture.pgchaosTables()).toEqual([]);
        expect(leftovers(result.run_id)).toEqual([]);
        // A split brain the HA manager leaves is the user's to settle; anything else ends healthy.
        if (result.verdict === "pass") {
          expect(await fixture.healthy()).toBe(true);
          expect(await fixture.pgchaosObjects()).toEqual([]);
        }
      });
    }

    it("tears the provisioned cluster down, and nothing of any run is left", async () => {
      await fixture.destroy();
      expect(leftovers(fixture.runId)).toEqual([]);
      for (const run of provisioned.values())
        for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
    });
  });
}
