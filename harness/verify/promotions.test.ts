import { describe, expect, it } from "vitest";
import { derivePromotions, sampledPromotions } from "./promotions.ts";
import { cleanFailover, ns, promotionReported, roleSample } from "./test-helpers.ts";

describe("derivePromotions", () => {
  it("takes the HA manager's promotion of a clean failover, confirmed by samples", () => {
    expect(derivePromotions(cleanFailover().timeline)).toEqual([
      { at_ns: ns(14), member: "n2", timeline: 2, fork_lsn: "0/3000100", source: "patroni /history" },
    ]);
  });

  it("keeps the earliest report of a repeated timeline and sorts by time", () => {
    const timeline = [
      promotionReported(30, "n1", 3, "0/5000000"),
      promotionReported(16, "n2", 2, "0/4000000"),
      promotionReported(14, "n2", 2, "0/3000100"),
    ];
    expect(derivePromotions(timeline)).toEqual([
      { at_ns: ns(14), member: "n2", timeline: 2, fork_lsn: "0/3000100", source: "patroni /history" },
      { at_ns: ns(30), member: "n1", timeline: 3, fork_lsn: "0/5000000", source: "patroni /history" },
    ]);
  });

  it("adds a promotion seen only by role samples", () => {
    const timeline = [
      roleSample(1, "n1", "primary", 1),
      roleSample(1, "n2", "replica", 1),
      roleSample(5, "n1", "down"),
      roleSample(5, "n2", "replica", 1),
      roleSample(9, "n2", "primary", 2),
      roleSample(10, "n2", "primary", 2),
    ];
    expect(derivePromotions(timeline)).toEqual([
      { at_ns: ns(9), member: "n2", timeline: 2, fork_lsn: null, source: "role samples" },
    ]);
  });

  it("keeps a reported promotion that the samples never saw", () => {
    const timeline = [
      roleSample(1, "n1", "primary", 1),
      roleSample(1, "n2", "replica", 1),
      promotionReported(6, "n2", 2, "0/3000100"),
      roleSample(8, "n2", "down"),
    ];
    expect(derivePromotions(timeline)).toEqual([
      { at_ns: ns(6), member: "n2", timeline: 2, fork_lsn: "0/3000100", source: "patroni /history" },
    ]);
  });

  it("adds a sampled promotion of another member to a timeline the HA manager reported", () => {
    const timeline = [
      roleSample(1, "n1", "primary", 1),
      roleSample(1, "n2", "replica", 1),
      roleSample(1, "n3", "replica", 1),
      promotionReported(6, "n2", 2),
      roleSample(7, "n2", "primary", 2),
      roleSample(7, "n3", "primary", 2),
    ];
    expect(derivePromotions(timeline).map((p) => [p.member, p.timeline, p.source])).toEqual([
      ["n2", 2, "patroni /history"],
      ["n3", 2, "role samples"],
    ]);
  });
});

describe("sampledPromotions", () => {
  it("does not count the initial primary", () => {
    const timeline = [roleSample(1, "n1", "primary", 1), roleSample(2, "n1", "primary", 1)];
    expect(sampledPromotions(timeline)).toEqual([]);
  });

  it("does not count the initial primary first sampled primary after a failed sample", () => {
    const timeline = [
      roleSample(0, "n1", "unreachable"),
      roleSample(0, "n2", "replica", 1),
      roleSample(1, "n1", "primary", 1),
    ];
    expect(sampledPromotions(timeline)).toEqual([]);
  });

  it("does not count a restart of the primary on its own timeline", () => {
    const timeline = [
      roleSample(1, "n1", "primary", 2),
      roleSample(1, "n2", "replica", 2),
      roleSample(3, "n1", "down"),
      roleSample(5, "n1", "primary", 2),
    ];
    expect(sampledPromotions(timeline)).toEqual([]);
  });

  it("counts the old primary promoted again on a newer timeline", () => {
    const timeline = [
      roleSample(1, "n1", "primary", 1),
      roleSample(1, "n2", "replica", 1),
      roleSample(4, "n2", "primary", 2),
      roleSample(4, "n1", "replica", 2),
      roleSample(9, "n1", "primary", 3),
    ];
    expect(sampledPromotions(timeline).map((p) => [p.at_ns, p.member, p.timeline])).toEqual([
      [ns(4), "n2", 2],
      [ns(9), "n1", 3],
    ]);
  });

  it("ignores primaries of unknown timeline", () => {
    const timeline = [
      roleSample(1, "n1", "primary", 1),
      roleSample(1, "n2", "replica", 1),
      roleSample(4, "n2", "primary"),
    ];
    expect(sampledPromotions(timeline)).toEqual([]);
  });
});
