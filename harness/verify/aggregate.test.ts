import { describe, expect, it } from "vitest";
import type { Verification } from "../model/figures.ts";
import {
  evaluateAggregates,
  groupStatistics,
  isAggregateKey,
  parseAggregateExpectation,
  spread,
} from "./aggregate.ts";
import { verify } from "./index.ts";
import { runRecord } from "./test-helpers.ts";

/** A verification whose figures are those of an empty run, with the given ones on top. */
function verification(
  figures: Partial<Verification["figures"]>,
  verdict: "pass" | "fail" = "pass",
): Verification {
  const base = verify(runRecord(), null);
  return { ...base, verdict, figures: { ...base.figures, ...figures } };
}

describe("spread", () => {
  it("takes nearest-rank percentiles: values some run really had", () => {
    // Sorted: 9, 10, 11, 12, 30. p50: rank ceil(2.5) = 3 → 11; p95: rank ceil(4.75) = 5 → 30.
    expect(spread([12, 9, 30, 10, 11])).toEqual({ runs: 5, min: 9, p50: 11, p95: 30, max: 30, none: 0 });
    // 20 runs 1..20: p95 is rank 19 → 19, p50 rank 10 → 10.
    const twenty = spread(Array.from({ length: 20 }, (_, i) => i + 1));
    expect([twenty.p50, twenty.p95, twenty.max]).toEqual([10, 19, 20]);
    // 3 runs: p95 is the worst of them.
    expect(spread([4, 2, 3]).p95).toBe(4);
  });

  it("counts a run that never recovered as the worst", () => {
    // Sorted: 5, 6, none. p50 rank 2 → 6; p95 and max land on the run without a value.
    expect(spread([6, null, 5])).toEqual({ runs: 3, min: 5, p50: 6, p95: null, max: null, none: 1 });
    expect(spread([])).toEqual({ runs: 0, min: null, p50: null, p95: null, max: null, none: 0 });
  });
});

describe("expectations over repeats", () => {
  const runs = [
    verification({ rto_s: 9.5, lost_writes: 0 }),
    verification({ rto_s: 12, lost_writes: 3, split_brain: true }, "fail"),
    verification({ rto_s: 10, lost_writes: 0 }),
    verification({ rto_s: 11, lost_writes: 0 }),
  ];
  const stats = groupStatistics(runs);

  it("tallies runs with lost writes and split-brain, and passes", () => {
    expect(stats.tallies.lost_writes).toEqual({ runs: 4, hit: 1, total: 3, unknown: 0 });
    expect(stats.tallies.split_brain.hit).toBe(1);
    expect([stats.passed, stats.failed]).toEqual([3, 1]);
    expect(stats.spreads.rto.p50).toBe(10);
  });

  it("judges p95, run counts and rates", () => {
    const results = evaluateAggregates(
      {
        rto_p95: "< 15s",
        rto_max: "< 10s",
        lost_writes_runs: 0,
        split_brain_rate: "< 30%",
        failed_runs: "<= 1",
        pass_rate: ">= 80%",
        rto: "< 30s", // a per-run key: not judged here
      },
      stats,
    );
    expect(results.map((r) => [r.key, r.actual, r.pass])).toEqual([
      ["rto_p95", "12s", true],
      ["rto_max", "12s", false],
      ["lost_writes_runs", "1 of 4 runs (25%)", false],
      ["split_brain_rate", "1 of 4 runs (25%)", true],
      ["failed_runs", "1 of 4 runs (25%)", true],
      ["pass_rate", "3 of 4 runs (75%)", false],
    ]);
  });

  it("knows its keys and names the accepted forms of a bad value", () => {
    expect(isAggregateKey("rto_p95")).toBe(true);
    expect(isAggregateKey("rto")).toBe(false);
    expect(() => parseAggregateExpectation("rto_p95", "soon")).toThrow(/rto_p95.*duration comparison/);
    expect(() => parseAggregateExpectation("split_brain_rate", "< 120%")).toThrow(/share of runs/);
    expect(() => parseAggregateExpectation("lost_writes_runs", "some")).toThrow(/count of runs/);
  });

  it("counts an unmeasured run as unknown, neither a hit nor clean, and fails a promise over it", () => {
    const unmeasured = groupStatistics([
      verification({ wal_loss_bytes: 0 }),
      verification({ wal_loss_bytes: null }),
      verification({ wal_loss_bytes: 128 }),
    ]);
    expect(unmeasured.tallies.wal_loss_bytes).toEqual({ runs: 3, hit: 1, total: 128, unknown: 1 });
    const [result] = evaluateAggregates({ wal_loss_bytes_runs: "<= 1" }, unmeasured);
    expect(result).toMatchObject({ actual: "1 of 3 runs (33.3%), unknown in 1", pass: false });
  });

  it("passes nothing for a group without runs", () => {
    expect(evaluateAggregates({ lost_writes_runs: 0 }, groupStatistics([]))[0]?.pass).toBe(false);
  });
});
