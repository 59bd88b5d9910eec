import { describe, expect, it } from "vitest";
import { historyOf, leftovers, readsOf, resultOf, runScenarioFile } from "./helpers.ts";

// Pgpool-II's load balancing as the replica readers' path: their sessions go to standbys, every
// other session (writers, primary readers) to the primary. Before the reader's statement stopped
// naming pg_stat_wal_receiver and its functions were in read_only_function_list, Pgpool sent every
// one of them to the primary: in_recovery false on node n1.
describe("readers-pgpool: replica readers through Pgpool read the standbys", () => {
  const run = runScenarioFile("test/scenarios/readers-pgpool.yaml");

  for (const topology of ["repmgr", "pg_auto_failover"]) {
    it(`${topology}: passes, with no read of lost data, no non-monotonic read, no dual primary`, () => {
      const result = resultOf(run, topology);
      const f = result.figures;
      expect(result.problems).toEqual([]);
      expect(result.verdict).toBe("pass");
      expect(f.lost_data_reads).toBe(0);
      expect(f.non_monotonic_reads).toBe(0);
      expect(f.dual_primary_s).toBe(0);
      expect(f.split_brain).toBe(false);
      // A standby may not have replayed the newest commit yet (sync waits for the flush); the
      // primary's paths never read stale.
      expect(result.reads.stale.every((r) => r.target === "replica")).toBe(true);
      const pgpoolPrimary = result.reads.paths.find((p) => p.path === "pgpool/primary");
      expect(pgpoolPrimary?.ok_reads).toBeGreaterThan(200);
      expect(pgpoolPrimary?.stale_reads).toBe(0);
    });

    it(`${topology}: every replica read through Pgpool came from a standby, named by the node itself`, () => {
      const result = resultOf(run, topology);
      const primary = result.final.primary;
      expect(primary).toMatch(/^n\d$/);
      const path = result.reads.paths.find((p) => p.path === "pgpool/replica");
      expect(path?.ok_reads).toBeGreaterThan(400);
      const replica = readsOf(run, topology).filter(
        (r) => r.group === "pgpool" && r.target === "replica" && r.outcome === "ok",
      );
      expect(replica).toHaveLength(path?.ok_reads as number);
      expect(replica.every((r) => r.in_recovery === true)).toBe(true);
      // The timeline a standby receives (pg_stat_get_wal_receiver(), not the view Pgpool refuses).
      expect(
        replica.every((r) => r.timeline === result.final.nodes.find((n) => n.member === r.node)?.timeline),
      ).toBe(true);
      const nodes = new Set(replica.map((r) => r.node));
      expect([...nodes].every((node) => /^n\d$/.test(node ?? "") && node !== primary)).toBe(true);
    });

    it(`${topology}: Pgpool's writers and primary readers stay on the primary`, () => {
      const result = resultOf(run, topology);
      const primary = result.final.primary;
      const reads = readsOf(run, topology).filter(
        (r) => r.group === "pgpool" && r.target === "primary" && r.outcome === "ok",
      );
      expect(reads.length).toBeGreaterThan(200);
      expect(reads.every((r) => r.in_recovery === false && r.node === primary)).toBe(true);
      const writes = historyOf(run, topology).filter((op) => op.group === "pgpool" && op.outcome === "ok");
      expect(writes.length).toBeGreaterThan(500);
      expect(writes.every((op) => op.node === primary)).toBe(true);
    });
  }

  it("leaves nothing behind", () => {
    for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
  });
});
