import { describe, expect, it } from "vitest";
import type { TimelineEvent } from "../model/timeline.ts";
import { oldPrimaryRejoin, writeBlocked } from "./rejoin.ts";
import { failedWrite, ns, okWrite, unknownWrite } from "./test-helpers.ts";

const role = (
  at: number,
  member: string,
  r: "primary" | "replica" | "down",
  timeline: number | null,
): TimelineEvent => ({
  at_ns: ns(at),
  kind: "role",
  member,
  role: r,
  observer: "outside",
  timeline,
  lsn: null,
});
const fault = (at: number, phase: "inject" | "heal", members: string[]): TimelineEvent => ({
  at_ns: ns(at),
  kind: "fault",
  phase,
  fault: "kill",
  target: "primary",
  members,
});

describe("writeBlocked", () => {
  it("is the longest write in flight, whatever its outcome", () => {
    expect(
      writeBlocked([okWrite(1, "n1", 1, 1, 1.02), unknownWrite(2, 2, 9.5), failedWrite(3, 10, 10.1)]),
    ).toBe(7.5);
    expect(writeBlocked([])).toBeNull();
  });
});

describe("oldPrimaryRejoin", () => {
  const base = [role(1, "n1", "primary", 1), role(1, "n2", "replica", 1), fault(5, "inject", ["n1"])];

  it("measures heal → the old primary streaming on the new timeline", () => {
    const timeline = [
      ...base,
      role(5.1, "n1", "down", null),
      fault(20, "heal", ["n1"]),
      role(21, "n1", "replica", 1),
      role(28.5, "n1", "replica", 2),
    ];
    expect(oldPrimaryRejoin(timeline)).toBe(8.5);
  });

  it("counts from the start of a heal that itself rejoins the member (repmgr's node rejoin)", () => {
    const healed: TimelineEvent = { ...fault(20, "heal", ["n1"]), requested_ns: ns(18) } as TimelineEvent;
    const timeline = [...base, role(5.1, "n1", "down", null), role(19.5, "n1", "replica", 2), healed];
    expect(oldPrimaryRejoin(timeline)).toBe(1.5);
  });

  it("is null when the old primary never came back as a replica", () => {
    const timeline = [...base, fault(20, "heal", ["n1"]), role(21, "n1", "primary", 1)];
    expect(oldPrimaryRejoin(timeline)).toBeNull();
  });

  it("is null when no fault hit the primary", () => {
    const timeline = [role(1, "n1", "primary", 1), fault(5, "inject", ["n2"]), fault(9, "heal", ["n2"])];
    expect(oldPrimaryRejoin(timeline)).toBeNull();
  });
});
