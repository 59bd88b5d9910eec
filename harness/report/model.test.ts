import { describe, expect, it } from "vitest";
import type { TimelineEvent } from "../observe/timeline.ts";
import type { WriteOperation } from "../workload/history.ts";
import { bucketSize, faultBands, roleSegments, runEndNs, workloadBuckets } from "./model.ts";
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
