import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { historyOf, leftovers, readsOf, resultOf, runDirOf, runScenarioFile } from "./helpers.ts";

// The checkers' false-positive test: no fault, every kind of client, all three HA managers.
describe("readers-steady: a healthy cluster shows no anomaly of any kind", () => {
  const run = runScenarioFile("test/scenarios/readers-steady.yaml");

  for (const topology of ["patroni", "pg_auto_failover", "repmgr"]) {
    it(`${topology}: zero stale, lost-data and non-monotonic reads, no dual primary, no transaction anomaly`, () => {
      const result = resultOf(run, topology);
      const f = result.figures;
      expect(result.verdict).toBe("pass");
      expect(f.reads).toBeGreaterThan(200);
      expect(f.transactions as number).toBeGreaterThan(200);
      for (const figure of [f.lost_data_reads, f.non_monotonic_reads, f.txn_anomalies])
        expect(figure).toBe(0);
      // A replica may lag behind its replay; the primary path never reads stale.
      const primary = result.reads.paths.find((p) => p.path === "direct/primary");
      expect(primary?.ok_reads).toBeGreaterThan(100);
      expect(primary?.stale_reads).toBe(0);
      expect(result.reads.stale.every((r) => r.target === "replica")).toBe(true);
      expect(f.dual_primary_s).toBe(0);
      expect(f.split_brain).toBe(false);
      expect(Object.values(result.transactions?.counts ?? { missing: 1 }).every((n) => n === 0)).toBe(true);
    });

    it(`${topology}: the replica readers read standbys, and every read is in reads.json`, () => {
      const result = resultOf(run, topology);
      const reads = readsOf(run, topology);
      const replica = reads.filter((r) => r.target === "replica" && r.outcome === "ok");
      expect(replica.length).toBeGreaterThan(100);
      expect(replica.every((r) => r.in_recovery === true)).toBe(true);
      expect(reads.filter((r) => r.outcome === "ok")).toHaveLength(result.figures.reads as number);
      expect(result.figures.replica_staleness_s).not.toBeNull();
    });
  }

  it("exports the history as EDN for Elle: invocations before completions, one map per line", () => {
    const edn = readFileSync(join(runDirOf(run, "patroni"), "history.edn"), "utf8")
      .trim()
      .split("\n");
    const committed = historyOf(run, "patroni").filter((op) => op.outcome === "ok").length;
    expect(edn.filter((line) => line.startsWith("{:type :ok")).length).toBe(committed);
    expect(edn[0]).toMatch(/^\{:type :invoke, :f :txn, :value \[/);
    expect(edn.every((line) => /^\{.*\}$/.test(line))).toBe(true);
  });

  it("leaves nothing behind", () => {
    for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
  });
});

describe("list-append-failover: serializable transactions across a Patroni failover", () => {
  const run = runScenarioFile("list-append-failover.yaml", ["--topology", "patroni"]);

  it("commits transactions on both sides of the promotion and infers no cycle", () => {
    const result = resultOf(run, "patroni");
    expect(result.figures.promotions).toBe(1);
    expect(result.figures.txn_anomalies).toBe(0);
    expect(result.transactions?.anomalies).toEqual([]);
    const timelines = new Set(
      historyOf(run, "patroni").flatMap((op) => (op.outcome === "ok" ? [op.timeline] : [])),
    );
    expect(timelines.size).toBe(2);
    expect(existsSync(join(runDirOf(run, "patroni"), "history.edn"))).toBe(true);
    expect(result.verdict).toBe("pass");
  });

  it("leaves nothing behind", () => {
    for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
  });
});
