import { describe, expect, it } from "vitest";
import type { WriteOperation } from "../model/history.ts";
import type { TimelineEvent } from "../model/timeline.ts";
import {
  alignedWindows,
  bucketSize,
  faultBands,
  firstFaultNs,
  haStatusSegments,
  impliedSegments,
  latencyBuckets,
  percentile,
  roleSegments,
  runEndNs,
  workloadBuckets,
} from "./model.ts";
import { fixtureRecord } from "./test-fixture.ts";

const S = 1e9;

function fault(at: number, phase: "inject" | "heal", name: string, target: string): TimelineEvent {
  return { at_ns: at * S, kind: "fault", phase, fault: name, target, members: [target] };
}

function role(
  at: number,
  member: string,
  r: "primary" | "replica" | "down",
  observer = "outside",
): TimelineEvent {
  return { at_ns: at * S, kind: "role", member, role: r, observer, timeline: 1, lsn: null };
}

describe("faultBands", () => {
  it("pairs inject and heal of the same fault and target", () => {
    const bands = faultBands([fault(1, "inject", "kill", "n1"), fault(4, "heal", "kill", "n1")], 10 * S);
    expect(bands).toEqual([
      { fault: "kill", target: "n1", members: ["n1"], start_ns: 1 * S, end_ns: 4 * S, healed: true },
    ]);
  });

  it("does not let a heal of another fault or target close a band", () => {
    const bands = faultBands(
      [fault(1, "inject", "kill", "n1"), fault(2, "heal", "kill", "n2"), fault(3, "heal", "partition", "n1")],
      10 * S,
    );
    expect(bands).toHaveLength(1);
    expect(bands[0]).toMatchObject({ end_ns: 10 * S, healed: false });
  });

  it("heals everything still open on a heal of fault all", () => {
    const bands = faultBands(
      [
        fault(1, "inject", "kill", "n1"),
        fault(2, "inject", "partition", "n2"),
        fault(3, "heal", "kill", "n1"),
        fault(5, "inject", "pause", "n3"),
        fault(7, "heal", "all", "*"),
        fault(8, "inject", "kill", "n2"),
      ],
      10 * S,
    );
    expect(bands.map((b) => [b.fault, b.start_ns / S, b.end_ns / S, b.healed])).toEqual([
      ["kill", 1, 3, true],
      ["partition", 2, 7, true],
      ["pause", 5, 7, true],
      ["kill", 8, 10, false],
    ]);
  });

  it("closes repeated injects of one fault first-in, first-out", () => {
    const bands = faultBands(
      [fault(1, "inject", "kill", "n1"), fault(2, "inject", "kill", "n1"), fault(3, "heal", "kill", "n1")],
      10 * S,
    );
    expect(bands.map((b) => [b.start_ns / S, b.end_ns / S])).toEqual([
      [1, 3],
      [2, 10],
    ]);
  });
});

describe("roleSegments", () => {
  it("turns role changes into segments running to the next change or the end", () => {
    const segs = roleSegments(
      [role(0.2, "n1", "primary"), role(3, "n1", "down"), role(1, "n2", "replica")],
      "n1",
      10 * S,
    );
    expect(segs.map((s) => [s.role, s.start_ns / S, s.end_ns / S])).toEqual([
      ["primary", 0.2, 3],
      ["down", 3, 10],
    ]);
  });

  it("merges repeated samples of the same role and timeline", () => {
    const segs = roleSegments([role(1, "n1", "replica"), role(2, "n1", "replica")], "n1", 5 * S);
    expect(segs).toHaveLength(1);
  });

  it("follows the outside observer when several sampled the member", () => {
    const segs = roleSegments(
      [
        role(1, "n1", "primary", "inside"),
        role(1, "n1", "primary"),
        role(2, "n1", "down"),
        role(3, "n1", "primary", "inside"),
      ],
      "n1",
      5 * S,
    );
    expect(segs.map((s) => s.role)).toEqual(["primary", "down"]);
  });

  it("is empty for a member never sampled", () => {
    expect(roleSegments([], "e1", S)).toEqual([]);
  });
});

describe("workloadBuckets", () => {
  const op = (complete_s: number, outcome: WriteOperation["outcome"]): WriteOperation => ({
    id: 1,
    writer: "w1",
    group: "direct",
    invoke_ns: 0,
    complete_ns: complete_s * S,
    outcome,
    node: null,
    timeline: null,
    lsn: null,
    error: null,
  });

  it("counts outcomes per 100 ms by completion time", () => {
    const b = workloadBuckets([op(0.05, "ok"), op(0.09, "ok"), op(0.15, "fail"), op(0.95, "unknown")], S);
    expect(b.bucket_ns).toBe(0.1 * S);
    expect(b.ok.slice(0, 2)).toEqual([2, 0]);
    expect(b.fail[1]).toBe(1);
    expect(b.unknown[9]).toBe(1);
    expect(b.ok).toHaveLength(10);
  });

  it("coarsens buckets on long runs", () => {
    expect(bucketSize(30 * S)).toBe(0.1 * S);
    expect(bucketSize(3600 * S)).toBe(2.4 * S);
    expect(workloadBuckets([], 3600 * S).ok.length).toBeLessThanOrEqual(1500);
  });

  it("sums the fixture's operations", () => {
    const record = fixtureRecord();
    const b = workloadBuckets(record.history, runEndNs(record));
    const sum = (xs: number[]) => xs.reduce((a, x) => a + x, 0);
    expect([sum(b.ok), sum(b.fail), sum(b.unknown)]).toEqual([240, 25, 1]);
  });
});

describe("latencyBuckets", () => {
  const ok = (
    invoke_s: number,
    complete_s: number,
    outcome: WriteOperation["outcome"] = "ok",
  ): WriteOperation => ({
    id: 1,
    writer: "w1",
    group: "direct",
    invoke_ns: invoke_s * S,
    complete_ns: complete_s * S,
    outcome,
    node: "n1",
    timeline: 1,
    lsn: null,
    error: null,
  });

  it("takes p50 and p99 of complete − invoke over the acknowledged writes completing in each bucket", () => {
    const ops = [
      ...Array.from({ length: 99 }, (_, i) => ok(0.01, 0.01 + (i + 1) / 1e4)),
      ok(0.0, 0.09),
      ok(0.1, 0.15, "fail"),
    ];
    const b = latencyBuckets(ops, S);
    expect(b.p50[0]).toBeCloseTo(0.005 * S, -2);
    expect(b.p99[0]).toBeCloseTo(0.0099 * S, -2);
    // Failed writes have no latency worth plotting; an empty bucket has none at all.
    expect(b.p50[1]).toBeNull();
    expect(b.p99.slice(2).every((v) => v === null)).toBe(true);
  });

  it("uses the nearest rank, so every percentile is a latency that was observed", () => {
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(percentile([1, 2, 3, 4], 0.99)).toBe(4);
    expect(percentile([7], 0.01)).toBe(7);
    expect(percentile([], 0.5)).toBeNull();
  });
});

describe("impliedSegments", () => {
  it("draws an unsampled member down while a kill held it, and nothing for other faults", () => {
    const bands = faultBands(
      [
        fault(2, "inject", "kill", "monitor"),
        fault(6, "heal", "kill", "monitor"),
        fault(7, "inject", "switchover", "monitor"),
      ],
      10 * S,
    );
    expect(impliedSegments(bands, "monitor")).toEqual([
      { role: "down", timeline: null, start_ns: 2 * S, end_ns: 6 * S, implied: true },
    ]);
    expect(impliedSegments(bands, "n1")).toEqual([]);
  });
});

describe("haStatusSegments", () => {
  it("turns the HA manager's cluster status lines into a lane, merging repeats", () => {
    const status = (at: number, text: string): TimelineEvent => ({
      at_ns: at * S,
      kind: "ha",
      source: "patroni status",
      member: null,
      text,
    });
    const segs = haStatusSegments(
      [
        status(1, "complete (primary n1)"),
        status(2, "complete (primary n1)"),
        { at_ns: 2.5 * S, kind: "ha", source: "patroni", member: "n1", text: "not a status" },
        status(3, "incomplete (primary n1)"),
        status(4, "no primary"),
        status(5, "HA manager unreachable"),
      ],
      6 * S,
    );
    expect(segs.map((s) => [s.state, s.start_ns / S, s.end_ns / S])).toEqual([
      ["complete", 1, 3],
      ["incomplete", 3, 4],
      ["no-primary", 4, 5],
      ["unreachable", 5, 6],
    ]);
  });
});

describe("alignedWindows", () => {
  it("zeroes each run at its first fault and gives all the same span", () => {
    const a = fixtureRecord();
    const b = fixtureRecord();
    // b: everything 2 s later.
    b.timeline = b.timeline.map((e) => ({ ...e, at_ns: e.at_ns + 2 * S }));
    b.history = b.history.map((op) => ({
      ...op,
      invoke_ns: op.invoke_ns + 2 * S,
      complete_ns: op.complete_ns + 2 * S,
    }));
    b.duration_s += 2;
    expect(firstFaultNs(a.timeline)).toBe(3 * S);
    const [wa, wb] = alignedWindows([a, b]);
    expect(wa?.origin_ns).toBe(3 * S);
    expect(wb?.origin_ns).toBe(5 * S);
    expect((wa?.to_ns ?? 0) - (wa?.from_ns ?? 0)).toBe((wb?.to_ns ?? 0) - (wb?.from_ns ?? 0));
    // From a second before the earliest workload start relative to the fault (b: 2.5 s before it).
    expect(((wa?.origin_ns ?? 0) - (wa?.from_ns ?? 0)) / S).toBeCloseTo(3.5, 6);
    expect(((wa?.to_ns ?? 0) - (wa?.origin_ns ?? 0)) / S).toBeCloseTo(27.2, 6);
  });
});
