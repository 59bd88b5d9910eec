import { describe, expect, it } from "vitest";
import { type RepmgrEventRow, chooseRepmgrPrimary, mergeRepmgrEvents } from "./repmgr-client.ts";

const row = (
  nodeId: number,
  event: string,
  us: string,
  nodeName: string | null = `n${nodeId}`,
): RepmgrEventRow => ({
  nodeId,
  nodeName,
  event,
  us,
  successful: true,
  details: `${event} on node ${nodeId}`,
});

// Recorded from an async isolate-primary run: n1 partitioned, n2 promoted on its side.
const registered = [
  row(1, "primary_register", "1796687000000001"),
  row(2, "standby_register", "1796687005000000"),
  row(3, "standby_register", "1796687009000000"),
];
const n1Copy = [...registered, row(1, "repmgrd_start", "1796687010000000")];
const n2Copy = [
  ...registered,
  row(1, "repmgrd_start", "1796687010000000"),
  row(2, "standby_promote", "1796687031123456"),
  row(2, "repmgrd_failover_promote", "1796687031123999"),
];
const n3Copy = [...n2Copy, row(3, "standby_follow", "1796687032000000")];

describe("repmgr.events merged from every copy", () => {
  it("keeps an event only one side of the partition recorded", () => {
    const merged = mergeRepmgrEvents([n1Copy, [], n2Copy]);
    expect(merged.filter((e) => e.event === "standby_promote")).toEqual([
      row(2, "standby_promote", "1796687031123456"),
    ]);
  });

  it("collapses the rows replicated to several nodes and orders by time", () => {
    const merged = mergeRepmgrEvents([n3Copy, n1Copy, n2Copy]);
    expect(merged.map((e) => `${e.nodeId} ${e.event}`)).toEqual([
      "1 primary_register",
      "2 standby_register",
      "3 standby_register",
      "1 repmgrd_start",
      "2 standby_promote",
      "2 repmgrd_failover_promote",
      "3 standby_follow",
    ]);
  });

  it("tells apart events a microsecond or an outcome apart, and names a node any copy knows", () => {
    const failed = { ...row(2, "standby_promote", "1796687031123456"), successful: false };
    const merged = mergeRepmgrEvents([
      [row(2, "standby_promote", "1796687031123456", null), failed],
      [row(2, "standby_promote", "1796687031123457"), row(2, "standby_promote", "1796687031123456")],
    ]);
    expect(merged.map((e) => [e.us, e.successful, e.nodeName])).toEqual([
      ["1796687031123456", true, "n2"],
      ["1796687031123456", false, "n2"],
      ["1796687031123457", true, "n2"],
    ]);
  });
});

describe("the primary when more than one node is writable", () => {
  // After the heal n1 (never fenced) has no replica, n2 has n3.
  const writable = [
    { member: "n2", streaming: 1 },
    { member: "n1", streaming: 0 },
  ];

  it("is the one repmgr's metadata names, even with fewer replicas", () => {
    const views = [
      { from: "n3", primary: "n1" },
      { from: "witness", primary: "n1" },
    ];
    expect(chooseRepmgrPrimary(writable, views, "witness")).toBe("n1");
    expect(
      chooseRepmgrPrimary(
        writable,
        [
          { from: "n3", primary: "n2" },
          { from: "witness", primary: "n2" },
        ],
        "witness",
      ),
    ).toBe("n2");
  });

  it("follows the majority, and the witness on a tie", () => {
    const views = [
      { from: "n3", primary: "n2" },
      { from: "n4", primary: "n2" },
      { from: "witness", primary: "n1" },
    ];
    expect(chooseRepmgrPrimary(writable, views, "witness")).toBe("n2");
    expect(chooseRepmgrPrimary(writable, views.slice(1), "witness")).toBe("n1");
  });

  it("ignores copies naming a node that is not writable, or none", () => {
    const views = [
      { from: "n3", primary: "n3" },
      { from: "witness", primary: null },
      { from: "n4", primary: "n1" },
    ];
    expect(chooseRepmgrPrimary(writable, views, "witness")).toBe("n1");
  });

  it("falls back to the most streaming replicas, ties by name, when no copy answers", () => {
    expect(chooseRepmgrPrimary(writable, [], "witness")).toBe("n2");
    const even = [
      { member: "n2", streaming: 0 },
      { member: "n1", streaming: 0 },
    ];
    expect(chooseRepmgrPrimary(even, [], null)).toBe("n1");
    // A tie among standbys with no witness to settle it.
    const split = [
      { from: "n3", primary: "n2" },
      { from: "n4", primary: "n1" },
    ];
    expect(chooseRepmgrPrimary(writable, split, null)).toBe("n2");
  });

  it("is the only writable node, or none, whatever the copies say", () => {
    expect(chooseRepmgrPrimary([{ member: "n1", streaming: 2 }], [{ from: "n3", primary: "n2" }], null)).toBe(
      "n1",
    );
    expect(chooseRepmgrPrimary([], [{ from: "n3", primary: "n2" }], null)).toBeNull();
  });
});
