import { describe, expect, it } from "vitest";
import { acked, readOp, syntheticReadHistory, unacked } from "./read-helpers.ts";
import { checkReads, distinctReads } from "./reads.ts";
import { ns } from "./test-helpers.ts";

const W1 = "direct/w1";
const W2 = "direct/w2";
const W3 = "direct/w3";
const P1 = "direct/primary/r1";
const R1 = "direct/replica/r1";

describe("checkReads", () => {
  it("finds no anomaly in a history where every read is up to date", () => {
    const writes = [
      acked(W1, 1, 0, 0.01, { lsn: "0/3000000" }),
      acked(W2, 2, 0.5, 0.51, { lsn: "0/3000080" }),
      acked(W1, 3, 1, 1.01, { lsn: "0/3000100" }),
    ];
    const reads = [
      readOp(P1, "primary", 0.005, 0.006, { [W1]: null, [W2]: null }),
      readOp(P1, "primary", 2, 2.01, { [W1]: 3, [W2]: 2 }),
      readOp(R1, "replica", 2, 2.01, { [W1]: 3, [W2]: 2 }, { lsn: "0/3000100" }),
    ];
    expect(checkReads(writes, reads, [1, 2, 3])).toEqual({
      reads: 3,
      ok_reads: 3,
      stale: [],
      lost_data: [],
      non_monotonic: [],
      max_staleness_s: null,
      replica_staleness_s: 0,
      replica_lag_bytes: 0,
      paths: [
        {
          path: "direct/primary",
          reads: 2,
          ok_reads: 2,
          stale_reads: 0,
          max_staleness_s: null,
          lost_data_reads: 0,
          non_monotonic_reads: 0,
          max_lag_bytes: null,
        },
        {
          path: "direct/replica",
          reads: 1,
          ok_reads: 1,
          stale_reads: 0,
          max_staleness_s: null,
          lost_data_reads: 0,
          non_monotonic_reads: 0,
          max_lag_bytes: 0,
        },
      ],
      problems: [],
    });
  });

  it("has no replica figures without replica reads, and nothing at all without reads", () => {
    const check = checkReads([acked(W1, 1, 0, 0.01)], [readOp(P1, "primary", 1, 1.01, { [W1]: 1 })], [1]);
    expect(check.replica_staleness_s).toBeNull();
    expect(check.replica_lag_bytes).toBeNull();
    expect(checkReads([acked(W1, 1, 0, 0.01)], [], [1])).toMatchObject({
      reads: 0,
      ok_reads: 0,
      paths: [],
      problems: [],
    });
  });

  it("finds a stale read with the oldest acknowledged write it missed and how many", () => {
    const writes = [acked(W1, 1, 0.9, 1), acked(W1, 2, 1.9, 2), acked(W2, 3, 2.4, 2.5), acked(W1, 4, 2.9, 3)];
    const reads = [readOp(R1, "replica", 3.5, 3.51, { [W1]: 1, [W2]: null }, { node: "n3" })];
    const check = checkReads(writes, reads, [1, 2, 3, 4]);
    expect(check.stale).toEqual([
      {
        reader: R1,
        group: "direct",
        target: "replica",
        node: "n3",
        invoke_ns: ns(3.5),
        complete_ns: ns(3.51),
        missed_id: 2,
        writer: W1,
        missed_ack_ns: ns(2),
        staleness_s: 1.5,
        missed: 3,
      },
    ]);
    expect(check.max_staleness_s).toBe(1.5);
    expect(check.replica_staleness_s).toBe(1.5);
    expect(check.paths[0]).toMatchObject({ path: "direct/replica", stale_reads: 1, max_staleness_s: 1.5 });
  });

  it("still counts by id when a writer's ids do not follow time, and says so", () => {
    // Two writes of one writer in flight at once, the later id acknowledged first.
    const writes = [acked(W1, 1, 0.6, 2), acked(W1, 2, 0.5, 1)];
    const reads = [
      readOp(P1, "primary", 1.5, 1.51, { [W1]: null }),
      readOp(P1, "primary", 2.5, 2.51, { [W1]: 1 }),
      readOp(P1, "primary", 2.6, 2.61, { [W1]: 2 }),
    ];
    const check = checkReads(writes, reads, [1, 2]);
    expect(check.stale.map((r) => [r.invoke_ns, r.missed_id, r.staleness_s, r.missed])).toEqual([
      [ns(1.5), 2, 0.5, 1],
      [ns(2.5), 2, 1.5, 1],
    ]);
    expect(check.problems).toEqual([
      `writer ids out of time order, stale reads judged by id regardless (1): ${W1}: 1 was acknowledged after 2 was sent`,
    ]);
  });

  it("does not call a read stale for a write acknowledged after the read was sent", () => {
    const writes = [acked(W1, 1, 0, 0.1), acked(W1, 2, 1.9, 2)];
    const reads = [
      // Sent while write 2 was in flight, and at the very instant its ack came: concurrent.
      readOp(P1, "primary", 1.95, 2.1, { [W1]: 1 }),
      readOp(P1, "primary", 2, 2.2, { [W1]: 1 }),
    ];
    expect(checkReads(writes, reads, [1, 2]).stale).toEqual([]);
  });

  it("judges only the writers a read asked about", () => {
    const writes = [acked(W1, 1, 0, 0.1), acked(W2, 2, 0, 0.1)];
    const reads = [readOp(P1, "primary", 1, 1.1, { [W2]: 2 })];
    expect(checkReads(writes, reads, [1, 2]).stale).toEqual([]);
  });

  it("leaves a lost write below the head to the lost-writes checker", () => {
    // 1 was acknowledged on n1 and lost; the writer went on with 5 on n2.
    const writes = [acked(W1, 1, 0, 0.1), acked(W1, 5, 3, 3.1, { node: "n2", timeline: 2 })];
    const reads = [readOp(P1, "primary", 4, 4.1, { [W1]: 5 }, { node: "n2", timeline: 2 })];
    const check = checkReads(writes, reads, [5]);
    expect(check.stale).toEqual([]);
    expect(check.lost_data).toEqual([]);
  });

  it("does not call a read stale for missing a write that was lost, however long after", () => {
    // 1 and 2 were acknowledged by a rogue primary and lost; the writer never wrote again.
    const writes = [acked(W1, 1, 0, 0.1), acked(W1, 2, 0.2, 0.3)];
    const reads = [readOp(P1, "primary", 15, 15.1, { [W1]: null }, { node: "n1" })];
    expect(checkReads(writes, reads, []).stale).toEqual([]);
    // With the final state unknown, the acknowledgement is all there is: the read is stale.
    expect(checkReads(writes, reads, null).stale).toHaveLength(1);
  });

  it("finds reads of lost data whatever the write's outcome", () => {
    const writes = [acked(W1, 1, 0, 0.1), unacked("unknown", W2, 2, 0, 5), unacked("fail", W3, 3, 0, 0.2)];
    const reads = [readOp(P1, "primary", 0.3, 0.4, { [W1]: 1, [W2]: 2, [W3]: 3 })];
    const check = checkReads(writes, reads, []);
    expect(check.lost_data.map((r) => [r.id, r.writer, r.write_outcome])).toEqual([
      [1, W1, "ok"],
      [2, W2, "unknown"],
      [3, W3, "fail"],
    ]);
    expect(check.lost_data[0]).toEqual({
      reader: P1,
      group: "direct",
      target: "primary",
      node: "n1",
      invoke_ns: ns(0.3),
      complete_ns: ns(0.4),
      id: 1,
      writer: W1,
      write_outcome: "ok",
    });
    // Three lost ids, one read: the path counts reads.
    expect(check.paths[0]?.lost_data_reads).toBe(1);
    expect(distinctReads(check.lost_data)).toBe(1);
    expect(check.problems).toEqual([]);
  });

  it("reports an id no write produced as a problem, not as lost data", () => {
    const check = checkReads([], [readOp(P1, "primary", 1, 1.1, { [W1]: 42 })], []);
    expect(check.lost_data).toEqual([]);
    expect(check.problems).toEqual([
      `reads saw ids no write in the history wrote (1): ${P1} saw 42 of ${W1}`,
    ]);
  });

  it("reports an unreadable final state as a problem instead of reads of lost data", () => {
    const writes = [acked(W1, 1, 0, 0.1)];
    const reads = [readOp(P1, "primary", 1, 1.1, { [W1]: 1 })];
    const check = checkReads(writes, reads, null);
    expect(check.lost_data).toEqual([]);
    expect(check.problems).toEqual(["final state unreadable: reads of lost data unknown"]);
  });

  it("reports a reader going back in time once per drop", () => {
    const writes = [1, 2, 3, 4, 5].map((id) => acked(W1, id, id - 0.1, id - 0.05));
    const heads = [3, 2, 2, null, 3, 5, 4, 4];
    const reads = heads.map((head, i) =>
      readOp(P1, "primary", 10 + i, 10.5 + i, { [W1]: head }, { node: i === 0 || i === 5 ? "n1" : "n2" }),
    );
    const check = checkReads(writes, reads, [1, 2, 3, 4, 5]);
    expect(check.non_monotonic).toEqual([
      {
        reader: P1,
        group: "direct",
        target: "primary",
        writer: W1,
        id: 3,
        seen_ns: ns(10.5),
        later_invoke_ns: ns(11),
        later_head: 2,
        node_before: "n1",
        node_after: "n2",
      },
      {
        reader: P1,
        group: "direct",
        target: "primary",
        writer: W1,
        id: 5,
        seen_ns: ns(15.5),
        later_invoke_ns: ns(16),
        later_head: 4,
        node_before: "n1",
        node_after: "n2",
      },
    ]);
    expect(check.paths[0]?.non_monotonic_reads).toBe(2);
  });

  it("never compares reads of different readers, nor reads that overlap", () => {
    const writes = [acked(W1, 1, 0, 0.1), acked(W1, 2, 0.2, 0.3)];
    const reads = [
      readOp(P1, "primary", 1, 1.5, { [W1]: 2 }),
      readOp("direct/primary/r2", "primary", 2, 2.1, { [W1]: 2 }),
      // Sent before the read that saw 2 had completed: not later in real time.
      readOp(P1, "primary", 1.2, 1.6, { [W1]: 1 }),
    ];
    const check = checkReads(writes, reads, [1, 2]);
    expect(check.non_monotonic).toEqual([]);
    expect(check.problems).toEqual([
      `readers with overlapping reads, not sequential; only reads after a completed one compared (1): ${P1} at 1.2 s`,
    ]);
  });

  it("measures replica lag in WAL bytes against acknowledgements on the read's timeline", () => {
    const writes = [
      acked(W1, 1, 0.9, 1, { lsn: "0/3000000" }),
      acked(W1, 2, 1.9, 2, { lsn: "0/3000100" }),
      acked(W1, 3, 2.4, 2.5, { node: "n2", timeline: 2, lsn: "0/3000400" }),
      // Acknowledged after the reads were sent: not counted against them.
      acked(W1, 4, 2.9, 3.5, { node: "n2", timeline: 2, lsn: "1/0" }),
    ];
    const heads = { [W1]: 1 };
    const reads = [
      readOp(R1, "replica", 3, 3.01, heads, { lsn: "0/3000080", timeline: 1 }),
      readOp(R1, "replica", 3.1, 3.11, heads, { lsn: "0/3000080", timeline: null }),
      readOp("haproxy/replica/r1", "replica", 3, 3.01, heads, {
        group: "haproxy",
        lsn: "0/3000500",
        timeline: 2,
      }),
      readOp(P1, "primary", 3, 3.01, { [W1]: 3 }, { lsn: "0/3000000", timeline: 1 }),
    ];
    const check = checkReads(writes, reads, [1, 2, 3, 4]);
    expect(check.replica_lag_bytes).toBe(0x380);
    expect(check.paths.map((p) => [p.path, p.max_lag_bytes])).toEqual([
      ["direct/primary", null],
      ["direct/replica", 0x380],
      ["haproxy/replica", 0],
    ]);
  });

  it("gives per-path figures, counting unanswered reads among reads only", () => {
    const writes = [acked(W1, 1, 0, 0.1), acked(W1, 2, 0.9, 1)];
    const reads = [
      readOp(P1, "primary", 2, 2.1, { [W1]: 2 }),
      readOp(P1, "primary", 3, 3.1, {}, { outcome: "unknown" }),
      readOp("haproxy/replica/r1", "replica", 1.5, 1.6, { [W1]: 1 }, { group: "haproxy" }),
      readOp("haproxy/replica/r1", "replica", 2.5, 2.6, { [W1]: 1 }, { group: "haproxy" }),
    ];
    const check = checkReads(writes, reads, [1, 2]);
    expect(check.reads).toBe(4);
    expect(check.ok_reads).toBe(3);
    expect(check.paths).toEqual([
      {
        path: "direct/primary",
        reads: 2,
        ok_reads: 1,
        stale_reads: 0,
        max_staleness_s: null,
        lost_data_reads: 0,
        non_monotonic_reads: 0,
        max_lag_bytes: null,
      },
      {
        path: "haproxy/replica",
        reads: 2,
        ok_reads: 2,
        stale_reads: 2,
        max_staleness_s: 1.5,
        lost_data_reads: 0,
        non_monotonic_reads: 0,
        max_lag_bytes: null,
      },
    ]);
    expect(check.stale.map((r) => r.staleness_s)).toEqual([0.5, 1.5]);
  });

  it("orders findings by invoke time then reader, whatever the history's order", () => {
    const writes = [acked(W1, 1, 0, 0.1)];
    const reads = [
      readOp("b", "replica", 2, 2.1, { [W1]: null }),
      readOp("a", "replica", 2, 2.1, { [W1]: null }),
      readOp("c", "replica", 1, 1.1, { [W1]: null }),
    ];
    expect(checkReads(writes, reads, [1]).stale.map((r) => r.reader)).toEqual(["c", "a", "b"]);
  });
});

describe("syntheticReadHistory", () => {
  it("is half writes, half reads, with the anomalies of a lossy failover", () => {
    const { writes, reads, final } = syntheticReadHistory(4_000);
    expect(writes).toHaveLength(2_000);
    expect(reads).toHaveLength(2_000);
    expect(new Set(writes.map((w) => w.writer)).size).toBe(4);
    expect(new Set(reads.map((r) => r.reader)).size).toBe(4);
    const check = checkReads(writes, reads, final);
    expect(check.problems).toEqual([]);
    expect(check.lost_data.length).toBeGreaterThan(0);
    expect(check.non_monotonic.length).toBeGreaterThan(0);
    expect(check.stale.length).toBeGreaterThan(0);
    expect(check.replica_lag_bytes).toBeGreaterThan(0);
    expect(syntheticReadHistory(4_000)).toEqual({ writes, reads, final });
  });
});
