import { describe, expect, it } from "vitest";
import {
  detectDualPrimary,
  detectSplitBrain,
  primaryIntervals,
  splitBrainFromAcks,
  splitBrainFromSamples,
} from "./split-brain.ts";
import { cleanFailover, ns, okWrite, roleSample, step, unknownWrite } from "./test-helpers.ts";

describe("splitBrainFromAcks", () => {
  it("finds none in a clean failover", () => {
    expect(splitBrainFromAcks(cleanFailover().history)).toEqual({
      window_ns: 0,
      evidence: [],
      intervals: [],
    });
  });

  it("finds none when the new primary's first write is invoked as the old one's last ack completes", () => {
    const history = [
      okWrite(1, "n1", 1, 1, 1.1),
      okWrite(2, "n1", 1, 9.5, 10),
      okWrite(3, "n2", 2, 10, 10.2),
      okWrite(4, "n2", 2, 12, 12.1),
    ];
    expect(splitBrainFromAcks(history)).toEqual({ window_ns: 0, evidence: [], intervals: [] });
  });

  it("finds none for the same node committing on two timelines at once", () => {
    const history = [
      okWrite(1, "n1", 1, 10, 10.01),
      okWrite(2, "n1", 1, 13, 13.01),
      okWrite(3, "n1", 2, 11, 11.5),
      okWrite(4, "n1", 2, 14, 14.01),
    ];
    expect(splitBrainFromAcks(history)).toEqual({ window_ns: 0, evidence: [], intervals: [] });
  });

  it("measures the overlap of two nodes' certain spans", () => {
    // n1 certainly accepted writes over [10.01, 13.5], n2 over [12.26, 15].
    const history = [
      okWrite(1, "n1", 1, 10, 10.01),
      okWrite(2, "n2", 2, 12, 12.26),
      okWrite(3, "n1", 1, 13.5, 13.51),
      okWrite(4, "n2", 2, 15, 15.01),
    ];
    expect(splitBrainFromAcks(history)).toEqual({
      window_ns: ns(1.24),
      evidence: ["acknowledged: n1 (tl 1) and n2 (tl 2) both committed writes during 1.240 s from 12.26 s"],
      intervals: [{ start_ns: ns(12.26), end_ns: ns(13.5), members: ["n1", "n2"], source: "acknowledged" }],
    });
  });

  it("finds a single write of one node committed inside another node's certain span", () => {
    const history = [
      okWrite(1, "n1", 1, 10, 10.01),
      okWrite(2, "n1", 1, 11, 11.01),
      okWrite(3, "n2", 2, 12, 12.2),
      okWrite(4, "n2", 2, 12.1, 12.15),
      okWrite(5, "n1", 1, 14, 14.01),
    ];
    expect(splitBrainFromAcks(history)).toEqual({
      window_ns: ns(0.2),
      evidence: [
        "acknowledged: n2 (tl 2) committed write 3 within 0.200 s from 12 s, while n1 (tl 1) was certainly committing writes",
      ],
      // Where write 3 committed: somewhere inside n1's span, so both accepted writes then.
      intervals: [{ start_ns: ns(12), end_ns: ns(12.2), members: ["n2", "n1"], source: "acknowledged" }],
    });
  });

  it("does not count a write that only straddles the edge of another node's span", () => {
    // n1's span is [10.01, 14]; n2's write may have committed after 14.
    const history = [
      okWrite(1, "n1", 1, 10, 10.01),
      okWrite(2, "n1", 1, 14, 14.01),
      okWrite(3, "n2", 2, 13.9, 14.1),
    ];
    expect(splitBrainFromAcks(history).evidence).toEqual([]);
  });

  it("ignores unknown writes, which prove nothing about a node accepting writes", () => {
    const history = [
      okWrite(1, "n1", 1, 10, 10.01),
      okWrite(2, "n1", 1, 14, 14.01),
      unknownWrite(3, 12, 12.2, "n2"),
    ];
    expect(splitBrainFromAcks(history).evidence).toEqual([]);
  });
});

describe("primaryIntervals", () => {
  it("runs from becoming primary to the next non-primary sample, or to the end of the timeline", () => {
    const timeline = [
      roleSample(1, "n1", "primary", 1),
      roleSample(2, "n1", "primary", 1),
      roleSample(3, "n1", "unreachable"),
      roleSample(4, "n1", "primary", 1),
      roleSample(5, "n2", "primary", 2),
      step(9, "workload stopped"),
    ];
    expect(primaryIntervals(timeline)).toEqual(
      new Map([
        [
          "n1",
          [
            { start_ns: ns(1), end_ns: ns(3) },
            { start_ns: ns(4), end_ns: ns(9) },
          ],
        ],
        ["n2", [{ start_ns: ns(5), end_ns: ns(9) }]],
      ]),
    );
  });

  it("unites observers, so one side of a partition cannot hide a primary", () => {
    const timeline = [
      roleSample(1, "n1", "primary", 1, "outside"),
      roleSample(1, "n1", "primary", 1, "inside"),
      roleSample(2, "n1", "unreachable", null, "outside"),
      roleSample(2.5, "n1", "primary", 1, "inside"),
      roleSample(3, "n1", "unreachable", null, "outside"),
      roleSample(6, "n1", "replica", 2, "inside"),
    ];
    expect(primaryIntervals(timeline).get("n1")).toEqual([{ start_ns: ns(1), end_ns: ns(6) }]);
  });
});

describe("splitBrainFromSamples", () => {
  it("finds none in a clean failover", () => {
    expect(splitBrainFromSamples(cleanFailover().timeline)).toEqual({
      window_ns: 0,
      evidence: [],
      intervals: [],
    });
  });

  it("finds two members sampled primary at the same time", () => {
    const timeline = [
      roleSample(1, "n1", "primary", 1),
      roleSample(1, "n2", "replica", 1),
      roleSample(12.1, "n2", "primary", 2),
      roleSample(12.1, "n1", "primary", 1),
      roleSample(12.9, "n1", "replica", 2),
      roleSample(20, "n2", "primary", 2),
    ];
    expect(splitBrainFromSamples(timeline)).toEqual({
      window_ns: ns(0.8),
      evidence: ["sampled: n1 and n2 both writable for 0.800 s from 12.1 s"],
      intervals: [{ start_ns: ns(12.1), end_ns: ns(12.9), members: ["n1", "n2"], source: "sampled" }],
    });
  });

  it("sums every overlap of the same two members", () => {
    const timeline = [
      roleSample(1, "n1", "primary", 1),
      roleSample(4, "n2", "primary", 2),
      roleSample(5, "n1", "down"),
      roleSample(8, "n1", "primary", 3),
      roleSample(9, "n2", "replica", 3),
      roleSample(10, "n1", "replica", 3),
    ];
    expect(splitBrainFromSamples(timeline)).toEqual({
      window_ns: ns(2),
      evidence: ["sampled: n1 and n2 both writable for 2.000 s from 4 s"],
      // One line of evidence, but each overlap drawn where it happened.
      intervals: [
        { start_ns: ns(4), end_ns: ns(5), members: ["n1", "n2"], source: "sampled" },
        { start_ns: ns(8), end_ns: ns(9), members: ["n1", "n2"], source: "sampled" },
      ],
    });
  });

  it("does not flag a handover where one member stops exactly when the other starts", () => {
    const timeline = [
      roleSample(1, "n1", "primary", 1),
      roleSample(5, "n1", "down"),
      roleSample(5, "n2", "primary", 2),
      roleSample(9, "n2", "primary", 2),
    ];
    expect(splitBrainFromSamples(timeline).evidence).toEqual([]);
  });
});

describe("detectSplitBrain", () => {
  it("reports no split-brain for a clean failover", () => {
    const { history, timeline } = cleanFailover();
    expect(detectSplitBrain(history, timeline)).toEqual({
      detected: false,
      window_s: 0,
      evidence: [],
      intervals: [],
    });
  });

  it("is not a split-brain when only the samples saw two primaries: that is a dual primary", () => {
    const { history } = cleanFailover();
    const timeline = [roleSample(1, "n1", "primary", 1), roleSample(3, "n3", "primary", 2), step(3.5, "end")];
    expect(detectSplitBrain(history, timeline)).toEqual({
      detected: false,
      window_s: 0,
      evidence: [],
      intervals: [],
    });
    expect(detectDualPrimary(timeline)).toEqual({
      seconds: 0.5,
      evidence: ["sampled: n1 and n3 both writable for 0.500 s from 3 s"],
      intervals: [{ start_ns: ns(3), end_ns: ns(3.5), members: ["n1", "n3"], source: "sampled" }],
    });
  });

  it("gives no dual primary for one primary at a time, and counts overlapping pairs once", () => {
    expect(
      detectDualPrimary([
        roleSample(1, "n1", "primary"),
        roleSample(2, "n1", "replica"),
        roleSample(2.5, "n2", "primary"),
        step(4, "end"),
      ]).seconds,
    ).toBe(0);
    // n1, n2 and n3 all primary from 3 s to 4 s: three pairs, one second of dual primary.
    const three = [
      roleSample(3, "n1", "primary"),
      roleSample(3, "n2", "primary"),
      roleSample(3, "n3", "primary"),
      step(4, "end"),
    ];
    expect(detectDualPrimary(three).seconds).toBe(1);
    expect(detectDualPrimary(three).evidence).toHaveLength(3);
  });

  it("keeps the two kinds apart: divergence from acknowledgements, dual primary from samples", () => {
    const history = [
      okWrite(1, "n1", 1, 10, 10.01),
      okWrite(2, "n1", 1, 13.5, 13.51),
      okWrite(3, "n2", 2, 12, 12.26),
      okWrite(4, "n2", 2, 15, 15.01),
    ];
    const timeline = [
      roleSample(1, "n1", "primary", 1),
      roleSample(12.1, "n2", "primary", 2),
      roleSample(13.6, "n1", "down"),
      step(16, "end"),
    ];
    expect(detectSplitBrain(history, timeline)).toEqual({
      detected: true,
      window_s: 1.24,
      evidence: ["acknowledged: n1 (tl 1) and n2 (tl 2) both committed writes during 1.240 s from 12.26 s"],
      intervals: [{ start_ns: ns(12.26), end_ns: ns(13.5), members: ["n1", "n2"], source: "acknowledged" }],
    });
    expect(detectDualPrimary(timeline)).toEqual({
      seconds: 1.5,
      evidence: ["sampled: n1 and n2 both writable for 1.500 s from 12.1 s"],
      intervals: [{ start_ns: ns(12.1), end_ns: ns(13.6), members: ["n1", "n2"], source: "sampled" }],
    });
  });

  it("does not bridge a node's acknowledgements across a freeze: it was not accepting in between", () => {
    // n1 acks, is frozen (sampled unreachable) while n2 is promoted and acks, then n1 resumes on the
    // same timeline and acks again — n1 and n2 overlapped only in the 0.15 s after the resume.
    const history = [
      okWrite(1, "n1", 1, 9.9, 9.91),
      okWrite(2, "n2", 2, 22, 22.01),
      okWrite(3, "n2", 2, 30.8, 30.81),
      okWrite(4, "n1", 1, 30.7, 30.71),
      okWrite(5, "n1", 1, 31, 31.01),
    ];
    const timeline = [
      roleSample(1, "n1", "primary", 1),
      roleSample(11, "n1", "unreachable"),
      roleSample(22, "n2", "primary", 2),
      roleSample(30.7, "n1", "primary", 1),
      roleSample(30.85, "n2", "down"),
    ];
    const fromAcks = detectSplitBrain(history, timeline).evidence.filter((e) => e.startsWith("acknowledged"));
    expect(fromAcks).toEqual([
      "acknowledged: n2 (tl 2) and n1 (tl 1) both committed writes during 0.090 s from 30.71 s",
    ]);
    expect(detectSplitBrain(history, timeline).window_s).toBe(0.09);
    expect(detectDualPrimary(timeline).seconds).toBe(0.15);
  });
});
