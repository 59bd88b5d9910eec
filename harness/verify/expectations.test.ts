import { describe, expect, it } from "vitest";
import {
  EXPECTATION_KEYS,
  type ExpectationContext,
  evaluateExpectations,
  parseExpectation,
} from "./expectations.ts";
import { figures } from "./test-helpers.ts";

const DURATION_HINT = 'write e.g. "< 30s", "<= 1.5s", "< 500ms", "< 2m" or a number of seconds';
const COUNT_HINT = 'write e.g. 0, "= 0" or "<= 3"';

describe("EXPECTATION_KEYS", () => {
  it("lists every key a scenario may promise", () => {
    expect(EXPECTATION_KEYS).toEqual([
      "rto",
      "max_write_gap",
      "lost_writes",
      "unknown_writes",
      "acknowledged_writes",
      "failed_writes",
      "wal_loss_bytes",
      "promotions",
      "split_brain",
      "diverged",
      "split_brain_window",
      "dual_primary",
      "reads",
      "stale_reads",
      "max_staleness",
      "lost_data_reads",
      "non_monotonic_reads",
      "replica_staleness",
      "replica_lag_bytes",
      "txn_anomalies",
      "write_blocked",
      "repoint_delay",
      "stale_name_writes",
      "old_primary_rejoin",
    ]);
  });
});

describe("parseExpectation", () => {
  it.each([
    ["< 30s", "<", 30],
    ["<30s", "<", 30],
    ["<= 500ms", "<=", 0.5],
    ["1.5s", "=", 1.5],
    ["== 2m", "=", 120],
    ["= 100ms", "=", 0.1],
    [">= 10", ">=", 10],
    ["!= .25s", "!=", 0.25],
    ["> 3 s", ">", 3],
  ])("reads the duration %j", (raw, op, seconds) => {
    expect(parseExpectation("rto", raw)).toEqual({
      key: "rto",
      figure: "rto_s",
      kind: "duration",
      op,
      seconds,
    });
  });

  it("reads a bare number as seconds", () => {
    expect(parseExpectation("max_write_gap", 12.5)).toEqual({
      key: "max_write_gap",
      figure: "max_write_gap_s",
      kind: "duration",
      op: "=",
      seconds: 12.5,
    });
  });

  it.each([
    [0, "=", 0],
    ["0", "=", 0],
    ["<= 3", "<=", 3],
    ["!=7", "!=", 7],
  ])("reads the count %j", (raw, op, count) => {
    expect(parseExpectation("lost_writes", raw)).toEqual({
      key: "lost_writes",
      figure: "lost_writes",
      kind: "count",
      op,
      count,
    });
  });

  it.each([
    [false, false],
    [true, true],
    ["false", false],
    ["= true", true],
    ["!= true", false],
    ["!= false", true],
  ])("reads the split_brain boolean %j", (raw, value) => {
    expect(parseExpectation("split_brain", raw)).toEqual({
      key: "split_brain",
      figure: "split_brain",
      kind: "boolean",
      value,
    });
  });

  it("rejects an unknown key, listing the known ones", () => {
    expect(() => parseExpectation("rtoo", "< 30s")).toThrow(
      "expect.rtoo is not a known expectation; known keys: rto, max_write_gap, lost_writes, unknown_writes, " +
        "acknowledged_writes, failed_writes, wal_loss_bytes, promotions, split_brain, diverged, split_brain_window",
    );
  });

  it("does not take inherited object properties for keys", () => {
    expect(() => parseExpectation("toString", 1)).toThrow("expect.toString is not a known expectation");
  });

  it.each([
    ["<30 sec", `expect.rto: "<30 sec" is not a duration comparison; ${DURATION_HINT}`],
    ["", `expect.rto: "" is not a duration comparison; ${DURATION_HINT}`],
    ["< -1s", `expect.rto: "< -1s" is not a duration comparison; ${DURATION_HINT}`],
    ["=< 5s", `expect.rto: "=< 5s" is not a duration comparison; ${DURATION_HINT}`],
    ["5h", `expect.rto: "5h" is not a duration comparison; ${DURATION_HINT}`],
    [-3, `expect.rto: -3 is not a duration comparison; ${DURATION_HINT}`],
    [true, `expect.rto: true is not a duration comparison; ${DURATION_HINT}`],
  ])("rejects the duration %j", (raw, message) => {
    expect(() => parseExpectation("rto", raw)).toThrow(message);
  });

  it.each([
    ["none", `expect.lost_writes: "none" is not a count comparison; ${COUNT_HINT}`],
    ["< 1.5", `expect.lost_writes: "< 1.5" is not a count comparison; ${COUNT_HINT}`],
    [1.5, `expect.lost_writes: 1.5 is not a count comparison; ${COUNT_HINT}`],
    [-1, `expect.lost_writes: -1 is not a count comparison; ${COUNT_HINT}`],
    [false, `expect.lost_writes: false is not a count comparison; ${COUNT_HINT}`],
  ])("rejects the count %j", (raw, message) => {
    expect(() => parseExpectation("lost_writes", raw)).toThrow(message);
  });

  it.each([
    ["no", 'expect.split_brain: "no" is not a boolean; write true or false'],
    ["< true", 'expect.split_brain: "< true" is not a boolean; write true or false'],
    [0, "expect.split_brain: 0 is not a boolean; write true or false"],
  ])("rejects the boolean %j", (raw, message) => {
    expect(() => parseExpectation("split_brain", raw)).toThrow(message);
  });

  it("throws messages of a single line", () => {
    expect(() => parseExpectation("rto", "<30\nsec")).toThrow(/^expect\.rto: "<30\\nsec" is not/);
  });
});

describe("evaluateExpectations", () => {
  it("passes the promises of a clean failover, in the order written", () => {
    const results = evaluateExpectations(
      { rto: "< 30s", lost_writes: 0, promotions: ">= 1", split_brain: false, max_write_gap: "<= 5300ms" },
      figures(),
    );
    expect(results).toEqual([
      { key: "rto", expected: "< 30s", actual: "5.21s", pass: true },
      { key: "lost_writes", expected: "= 0", actual: "0", pass: true },
      { key: "promotions", expected: ">= 1", actual: "1", pass: true },
      { key: "split_brain", expected: "false", actual: "false", pass: true },
      { key: "max_write_gap", expected: "<= 5.3s", actual: "5.3s", pass: true },
    ]);
  });

  it("fails broken promises and shows what was measured", () => {
    const results = evaluateExpectations(
      {
        rto: "< 5s",
        lost_writes: "= 0",
        split_brain: "false",
        split_brain_window: "< 500ms",
        wal_loss_bytes: 0,
      },
      figures({ lost_writes: 2, split_brain: true, split_brain_window_s: 1.24, wal_loss_bytes: 520 }),
    );
    expect(results).toEqual([
      { key: "rto", expected: "< 5s", actual: "5.21s", pass: false },
      { key: "lost_writes", expected: "= 0", actual: "2", pass: false },
      { key: "split_brain", expected: "false", actual: "true", pass: false },
      { key: "split_brain_window", expected: "< 0.5s", actual: "1.24s", pass: false },
      { key: "wal_loss_bytes", expected: "= 0", actual: "520", pass: false },
    ]);
  });

  it.each([
    ["< 30s", false],
    ["> 0s", false],
    ["!= 1s", false],
  ])("fails %j when RTO was never measured, showing none", (raw, pass) => {
    expect(evaluateExpectations({ rto: raw }, figures({ rto_s: null }))).toEqual([
      { key: "rto", expected: raw, actual: "none", pass },
    ]);
  });

  it.each([
    ["< 5.21s", false],
    ["<= 5.21s", true],
    ["= 5.21", true],
    ["!= 5.21s", false],
    ["> 5.2s", true],
    [">= 5.22s", false],
  ])("compares the exact value for %j", (raw, pass) => {
    expect(evaluateExpectations({ rto: raw }, figures({ rto_s: 5.21 }))[0]?.pass).toBe(pass);
  });

  it("normalizes how the promise was written", () => {
    const results = evaluateExpectations(
      { rto: "<=2m", max_write_gap: 4, failed_writes: "==3", split_brain: "!= true" },
      figures({ failed_writes: 3 }),
    );
    expect(results.map((result) => result.expected)).toEqual(["<= 120s", "= 4s", "= 3", "false"]);
  });

  it("throws on a malformed expectation", () => {
    expect(() => evaluateExpectations({ lost_writes: "few" }, figures())).toThrow(
      `expect.lost_writes: "few" is not a count comparison; ${COUNT_HINT}`,
    );
  });
});

describe("rto: within-bound", () => {
  const bound = (bound_s: number): ExpectationContext => ({
    rto_bound: {
      bound_s,
      parts: [{ name: "ttl", s: bound_s, phase: "detection" }],
      share_s: { detection: bound_s, election: 0, reconnection: 0 },
      formula: "ttl",
      note: null,
    },
  });

  it("parses for rto only, with the bound named in rto's hint", () => {
    expect(parseExpectation("rto", " within-bound ")).toEqual({
      key: "rto",
      figure: "rto_s",
      kind: "within-bound",
    });
    expect(() => parseExpectation("max_write_gap", "within-bound")).toThrow("is not a duration comparison");
    expect(() => parseExpectation("rto", "within bound")).toThrow(`${DURATION_HINT}, or "within-bound"`);
  });

  it.each([
    [9.31, 12, true, "9.31s (bound 12s)"],
    [12, 12, true, "12s (bound 12s)"],
    // No tolerance: a millisecond over is over.
    [12.001, 12, false, "12.001s (bound 12s)"],
  ])("passes RTO %d against a bound of %d only when within it", (rto, limit, pass, actual) => {
    expect(evaluateExpectations({ rto: "within-bound" }, figures({ rto_s: rto }), bound(limit))).toEqual([
      { key: "rto", expected: "within-bound", actual, pass },
    ]);
  });

  it("fails without a bound, or without a recovery, and says which", () => {
    expect(evaluateExpectations({ rto: "within-bound" }, figures({ rto_s: 4 }))).toEqual([
      {
        key: "rto",
        expected: "within-bound",
        actual: "4s, no bound derivable from the settings",
        pass: false,
      },
    ]);
    expect(evaluateExpectations({ rto: "within-bound" }, figures({ rto_s: null }), bound(3))).toEqual([
      { key: "rto", expected: "within-bound", actual: "none (bound 3s)", pass: false },
    ]);
  });
});
