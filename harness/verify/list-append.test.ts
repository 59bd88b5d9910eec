import { describe, expect, it } from "vitest";
import { TXN_ANOMALY_KINDS } from "../model/figures.ts";
import type { MicroOp, WriteOperation } from "../model/history.ts";
import { checkListAppend } from "./list-append.ts";

/** A transaction as the workload records it: ledger id, outcome and its micro-ops (reads filled in when ok). */
function txn(id: number, ops: MicroOp[], outcome: WriteOperation["outcome"] = "ok", at = id): WriteOperation {
  return {
    id,
    group: "direct",
    writer: `direct/w${id}`,
    invoke_ns: at * 1000,
    complete_ns: at * 1000 + 500,
    outcome,
    node: "n1",
    timeline: 1,
    lsn: null,
    error: outcome === "ok" ? null : "aborted",
    txn: ops,
  };
}

const append = (key: number, value: number): MicroOp => ({ f: "append", key, value });
const read = (key: number, value: number[] | null): MicroOp => ({ f: "r", key, value });

function kinds(history: WriteOperation[]) {
  return checkListAppend(history).anomalies.map((a) => a.kind);
}

describe("checkListAppend", () => {
  it("finds nothing in a serial history, and counts every kind as zero", () => {
    const history = [
      txn(1, [append(1, 10), read(1, [10])]),
      txn(2, [read(1, [10]), append(1, 20), append(2, 21)]),
      txn(3, [read(1, [10, 20]), read(2, [21])]),
      txn(4, [append(2, 40)], "fail"),
      txn(5, [read(2, [21])]),
    ];
    const check = checkListAppend(history);
    expect(check.anomalies).toEqual([]);
    expect(check.transactions).toBe(5);
    expect(check.committed).toBe(4);
    expect(Object.keys(check.counts)).toEqual([...TXN_ANOMALY_KINDS]);
    expect(Object.values(check.counts).every((n) => n === 0)).toBe(true);
  });

  it("ignores ledger writes without a transaction", () => {
    const plain = { ...txn(1, []), txn: undefined };
    expect(checkListAppend([plain]).transactions).toBe(0);
  });

  it("finds G0: two transactions' appends interleaved in opposite orders on two keys", () => {
    const history = [
      txn(1, [append(1, 11), append(2, 12)]),
      txn(2, [append(1, 21), append(2, 22)]),
      txn(3, [read(1, [11, 21]), read(2, [22, 12])]),
    ];
    const [g0] = checkListAppend(history).anomalies.filter((a) => a.kind === "G0");
    expect(g0?.txns.sort()).toEqual([1, 2]);
    expect(g0?.cycle?.map((s) => s.type)).toEqual(["ww", "ww"]);
    expect(g0?.text).toMatch(/^G0: txn \d → ww\(key \d, \d+\) → txn \d → ww\(key \d, \d+\) → txn \d$/);
  });

  it("finds G1c: each transaction read the other's append", () => {
    const history = [txn(1, [append(1, 11), read(2, [22])]), txn(2, [append(2, 22), read(1, [11])])];
    const check = checkListAppend(history);
    expect(check.counts.G1c).toBe(1);
    expect(check.anomalies[0]?.cycle?.map((s) => s.type)).toEqual(["wr", "wr"]);
  });

  it("finds G1a: a read of a failed transaction's append", () => {
    const history = [txn(1, [append(1, 11)], "fail"), txn(2, [read(1, [11])])];
    expect(checkListAppend(history).anomalies).toEqual([
      {
        kind: "G1a",
        txns: [2, 1],
        text: "G1a: txn 2 read 11 on key 1, appended by txn 1, which failed",
        cycle: null,
      },
    ]);
  });

  it("finds G1b: a read that ends in a value its writer appended over", () => {
    const history = [
      txn(1, [append(1, 11), append(1, 12)]),
      txn(2, [read(1, [11])]),
      txn(3, [read(1, [11, 12])]),
    ];
    // The same read also closes T1 →wr T2 →rw T1: a G-single, as Elle would report it too.
    expect(kinds(history)).toEqual(["G1b", "G-single"]);
  });

  it("finds G-single: read skew, one anti-dependency in the cycle", () => {
    // T3 read key 1 before T2's append, and key 2 after it: T3 →rw T2 →wr T3.
    const history = [
      txn(1, [append(1, 11), append(2, 12)]),
      txn(2, [append(1, 21), append(2, 22)]),
      txn(3, [read(1, [11]), read(2, [12, 22])]),
      txn(4, [read(1, [11, 21])]),
    ];
    const check = checkListAppend(history);
    expect(check.counts["G-single"]).toBe(1);
    const cycle = check.anomalies.find((a) => a.kind === "G-single")?.cycle ?? [];
    expect(cycle.filter((s) => s.type === "rw")).toHaveLength(1);
    expect(new Set(cycle.map((s) => s.from))).toEqual(new Set([2, 3]));
  });

  it("finds G2-item: write skew, two anti-dependencies", () => {
    // Each read the other's key empty, then appended to its own: T1 →rw T2 →rw T1.
    const history = [
      txn(1, [read(2, []), append(1, 11)]),
      txn(2, [read(1, []), append(2, 22)]),
      txn(3, [read(1, [11]), read(2, [22])]),
    ];
    const check = checkListAppend(history);
    expect(check.counts["G2-item"]).toBe(1);
    expect(check.counts["G-single"]).toBe(0);
    expect(check.anomalies.find((a) => a.kind === "G2-item")?.cycle?.map((s) => s.type)).toEqual([
      "rw",
      "rw",
    ]);
  });

  it("finds an incompatible order once per key: what a lost append looks like", () => {
    const history = [
      txn(1, [append(1, 11)]),
      txn(2, [append(1, 21)]),
      txn(3, [read(1, [11, 21])]),
      txn(4, [append(1, 41)]),
      txn(5, [read(1, [11, 41])]),
      txn(6, [read(1, [11, 41])]),
    ];
    const check = checkListAppend(history);
    expect(check.counts["incompatible-order"]).toBe(1);
    expect(check.anomalies[0]?.text).toBe(
      "incompatible-order: key 1 read as [11 41] by txn 5, but as [11 21] by txn 3",
    );
  });

  it("finds duplicate elements and internal inconsistencies", () => {
    const duplicate = [txn(1, [append(1, 11)]), txn(2, [read(1, [11, 11])])];
    expect(kinds(duplicate)).toContain("duplicate-elements");
    // T1 appended 11 then read key 1 without it.
    const internal = [txn(1, [append(1, 11), read(1, [])])];
    expect(kinds(internal)).toContain("internal");
    // Its own append at the end of what it reads is consistent.
    expect(kinds([txn(1, [append(1, 11), read(1, [11])])])).toEqual([]);
  });

  it("takes an unknown transaction in when its append was observed, and never a failed one's edges", () => {
    const observed = [
      txn(1, [append(1, 11), read(2, [22])], "unknown"),
      txn(2, [append(2, 22), read(1, [11])]),
      txn(3, [read(1, [11]), read(2, [22])]),
    ];
    // The unknown T1 committed (T2 read it); its own reads are unknown, so no cycle through them.
    expect(kinds(observed)).toEqual([]);
    const unobserved = [txn(1, [append(1, 11)], "unknown"), txn(2, [read(1, [])])];
    expect(kinds(unobserved)).toEqual([]);
  });
});
