import { describe, expect, it } from "vitest";
import { dnsRun } from "../dns-fixture.ts";
import { historyOf, leftovers, resultOf, runScenarioFile } from "../helpers.ts";

/** RTO of one path varies from run to run (pg_auto_failover: 9.4–11.7 s over five kill-primary runs). */
const SAME_RTO_S = 4;

/** The direct path beside the name's is the failover's own: compared with a run that has no name. */
function compareDirectPath(topology: string) {
  describe(`kill-primary with and without the name: ${topology}`, () => {
    const plain = runScenarioFile("kill-primary.yaml", ["--topology", topology]);
    const named = runScenarioFile("kill-primary-dns.yaml", ["--topology", topology]);

    it("gives the direct path the same RTO either way, and the name's path a longer one", () => {
      const without = resultOf(plain, topology).figures.rto_s as number;
      const { groups } = dnsRun(named, topology);
      expect(resultOf(named, topology).verdict).toBe("pass");
      expect(Math.abs((groups.direct?.rto_s ?? 0) - without)).toBeLessThanOrEqual(SAME_RTO_S);
      expect(groups.dns?.rto_s).toBeGreaterThan(groups.direct?.rto_s ?? 0);
    });

    it("leaves nothing behind", () => {
      for (const runId of [...plain.runIds, ...named.runIds]) expect(leftovers(runId)).toEqual([]);
    });
  });
}

compareDirectPath("patroni");
compareDirectPath("pg_auto_failover");
compareDirectPath("repmgr");

/**
 * An application on the isolated primary's own host that connects by name: every write it sent
 * after the promotion to a node other than the promoted one is a stale-name write, and the check
 * lists exactly those, by the history.
 */
describe("isolate-primary-dns on all three", () => {
  const run = runScenarioFile("isolate-primary-dns.yaml");

  for (const topology of ["patroni", "pg_auto_failover", "repmgr"]) {
    it(`${topology}: lists exactly the writes by name that reached a former primary`, () => {
      const { result, names } = dnsRun(run, topology);
      const [promotion] = result.promotions;
      if (!promotion) throw new Error(`${topology}: no promotion`);
      const expected = historyOf(run, topology)
        .filter(
          (op) =>
            ["dns", "app-beside-primary"].includes(op.group) &&
            op.node !== null &&
            op.invoke_ns >= promotion.at_ns &&
            op.node !== promotion.member,
        )
        .map((op) => op.id)
        .sort((a, b) => a - b);
      expect(names.stale_writes.map((w) => w.id).sort((a, b) => a - b)).toEqual(expected);
      expect(result.figures.stale_name_writes).toBe(
        names.stale_writes.filter((w) => w.outcome === "ok").length,
      );
      expect(names.repointings[0]?.delay_s).not.toBeNull();
    });
  }

  it("leaves nothing behind", () => {
    for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
  });
});
