import { describe, expect, it } from "vitest";
import type { TimelineEvent } from "../model/timeline.ts";
import { derivePromotions, forkDisagreements, sampledPromotions } from "./promotions.ts";
import { cleanFailover, ns, promotionOf, promotionReported, roleSample } from "./test-helpers.ts";

/** What the sampler puts on the timeline when it reads a promoted member's history file. */
function forkRead(
  atS: number,
  member: string,
  timeline: number,
  forkLsn: string,
  parent = timeline - 1,
): TimelineEvent {
  return {
    at_ns: ns(atS),
    kind: "fork",
    member,
    timeline,
    parent,
    fork_lsn: forkLsn,
    reason: "no recovery target specified",
  };
}

const fromHa = (at: number, member: string, timeline: number, lsn: string) =>
  promotionOf({
    at_ns: ns(at),
    member,
    timeline,
    fork_lsn: lsn,
    ha_fork_lsn: lsn,
    fork_source: "ha manager",
  });

describe("derivePromotions", () => {
  it("takes the HA manager's promotion of a clean failover, confirmed by samples", () => {
    expect(derivePromotions(cleanFailover().timeline)).toEqual([fromHa(14, "n2", 2, "0/3000100")]);
  });

  it("keeps the earliest report of a repeated timeline and sorts by time", () => {
    const timeline = [
      promotionReported(30, "n1", 3, "0/5000000"),
      promotionReported(16, "n2", 2, "0/4000000"),
      promotionReported(14, "n2", 2, "0/3000100"),
    ];
    expect(derivePromotions(timeline)).toEqual([
      fromHa(14, "n2", 2, "0/3000100"),
      fromHa(30, "n1", 3, "0/5000000"),
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
      promotionOf({
        at_ns: ns(9),
        member: "n2",
        timeline: 2,
        source: "role samples",
        unrecorded: "the HA manager recorded no promotion in this run",
      }),
    ]);
  });

  it("keeps a reported promotion that the samples never saw", () => {
    const timeline = [
      roleSample(1, "n1", "primary", 1),
      roleSample(1, "n2", "replica", 1),
      promotionReported(6, "n2", 2, "0/3000100"),
      roleSample(8, "n2", "down"),
    ];
    expect(derivePromotions(timeline)).toEqual([fromHa(6, "n2", 2, "0/3000100")]);
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

describe("fork points from PostgreSQL's timeline history", () => {
  it("takes the promoted member's own history file over the HA manager's figure, keeping both", () => {
    const timeline = [promotionReported(6, "n2", 2, "0/3000100"), forkRead(7, "n2", 2, "0/3000100")];
    expect(derivePromotions(timeline)).toEqual([
      promotionOf({
        at_ns: ns(6),
        member: "n2",
        timeline: 2,
        fork_lsn: "0/3000100",
        ha_fork_lsn: "0/3000100",
        fork_source: "timeline history",
      }),
    ]);
    expect(forkDisagreements(derivePromotions(timeline))).toEqual([]);
  });

  it("gives a promotion seen only by samples its fork point, and says why the HA manager lacks it", () => {
    // Patroni 3.0.2, a frozen leader: n3 promoted itself to timeline 2; n1 thawed, took the lock back
    // on timeline 1, n3 rewound. The DCS history kept only what n1 wrote.
    const timeline = [
      roleSample(1, "n1", "primary", 1),
      roleSample(1, "n3", "replica", 1),
      roleSample(9, "n3", "primary", 2),
      forkRead(9.1, "n3", 2, "0/5000060"),
      roleSample(20, "n3", "replica", 1),
    ];
    const [promotion] = derivePromotions(timeline, {
      topology: "patroni",
      final: {
        primary: "n1",
        nodes: [],
        histories: [{ member: "n1", timeline: 1, forks: [] }],
      },
    });
    expect(promotion).toMatchObject({
      member: "n3",
      timeline: 2,
      parent: 1,
      fork_lsn: "0/5000060",
      fork_source: "timeline history",
      source: "role samples",
      unrecorded:
        "patroni recorded no promotion in this run: the final primary n1 is on timeline 1, which does not descend from it: the timeline was abandoned",
    });
  });

  it("reads a fork point from a history read at the end when the sampler missed it", () => {
    const timeline = [promotionReported(6, "n2", 2)];
    const [promotion] = derivePromotions(timeline, {
      topology: "repmgr",
      final: {
        primary: "n2",
        nodes: [],
        histories: [
          {
            member: "n3",
            timeline: 3,
            forks: [
              { timeline: 2, parent: 1, fork_lsn: "0/3000100", reason: "" },
              { timeline: 3, parent: 2, fork_lsn: "0/4000000", reason: "" },
            ],
          },
        ],
      },
    });
    expect(promotion).toMatchObject({ fork_lsn: "0/3000100", fork_source: "timeline history", parent: 1 });
  });

  it("does not pick a fork point when two branches reused the timeline number differently", () => {
    const timeline = [
      promotionReported(6, "n2", 2),
      forkRead(7, "n3", 2, "0/AAA"),
      forkRead(8, "n1", 2, "0/BBB"),
    ];
    expect(derivePromotions(timeline)[0]).toMatchObject({ fork_lsn: null, fork_source: null });
  });

  it("reports the HA manager disagreeing with PostgreSQL about a fork point", () => {
    const timeline = [promotionReported(6, "n2", 2, "0/3000100"), forkRead(7, "n2", 2, "0/3000200")];
    expect(forkDisagreements(derivePromotions(timeline))).toEqual([
      "the promotion of n2 to timeline 2: patroni /history says it forked at 0/3000100, PostgreSQL's timeline history says 0/3000200",
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
