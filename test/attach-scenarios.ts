import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TopologyName } from "../harness/scenario/schema.ts";
import { type AttachFixture, type ServicesOf, provisionForAttach } from "./attach-fixture.ts";
import { ROOT, leftovers, resultOf, runScenarioFile } from "./helpers.ts";

/** The scenarios issue 14 asks of every HA manager on an attached cluster, beyond kill-primary. */
export const ATTACHED_SCENARIOS = ["stop-primary", "switchover", "isolate-primary"] as const;

/**
 * One provisioned cluster, then each scenario attached to it in turn through the cluster file and
 * SSH only. Each must reach the verdict a provisioned run reaches (pass: one promotion, nothing
 * lost, the scenario's own expectations), and leave the cluster healthy with nothing of pgchaos's.
 */
export function describeAttachedScenarios(
  ha: TopologyName,
  servicesOf: ServicesOf,
  extra?: Parameters<typeof provisionForAttach>[3],
): void {
  describe(`attach: ${ATTACHED_SCENARIOS.join(", ")} on a running ${ha} cluster, over SSH only`, () => {
    let fixture: AttachFixture;

    beforeAll(async () => {
      fixture = await provisionForAttach(ha, join(ROOT, "scenarios/kill-primary.yaml"), servicesOf, extra);
    });
    afterAll(() => fixture?.destroy());

    for (const scenario of ATTACHED_SCENARIOS) {
      it(`${scenario}: the provisioned run's verdict, and the cluster healthy afterwards with nothing left`, async () => {
        const run = runScenarioFile(`${scenario}.yaml`, [
          "--topology",
          ha,
          "--cluster",
          fixture.clusterFile,
          "--yes",
        ]);
        const result = resultOf(run, ha);
        expect(result.backend).toBe("ssh");
        expect(result.problems).toEqual([]);
        expect(result.expectations.filter((e) => !e.pass)).toEqual([]);
        expect(result.figures.promotions).toBe(1);
        expect(result.figures.lost_writes).toBe(0);
        expect(result.verdict).toBe("pass");
        expect(await fixture.healthy()).toBe(true);
        expect(await fixture.pgchaosObjects()).toEqual([]);
        expect(await fixture.pgchaosTables()).toEqual([]);
        expect(leftovers(result.run_id)).toEqual([]);
      });
    }

    it("tears the provisioned cluster down without leftovers", async () => {
      await fixture.destroy();
      expect(leftovers(fixture.runId)).toEqual([]);
    });
  });
}
