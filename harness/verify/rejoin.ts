/** How a fault's aftermath ends: writes that hung, and the old primary finding its way back. */

import type { WriteOperation } from "../model/history.ts";
import type { TimelineEvent } from "../model/timeline.ts";
import { nsToSeconds } from "./units.ts";

type RoleEvent = Extract<TimelineEvent, { kind: "role" }>;
type FaultEvent = Extract<TimelineEvent, { kind: "fault" }>;

/** Longest single write in flight, in seconds: what a blocked commit (sync standby gone) costs a client. */
export function writeBlocked(history: readonly WriteOperation[]): number | null {
  let longest: number | null = null;
  for (const op of history) longest = Math.max(longest ?? 0, op.complete_ns - op.invoke_ns);
  return longest === null ? null : nsToSeconds(longest);
}

/**
 * For every member that was the sampled primary when a fault hit it: time from that fault's heal
 * until the member is sampled as a replica on a newer timeline than it led (rewound and following
 * the new primary). The worst over such members; null when none was hit or one never came back.
 */
export function oldPrimaryRejoin(timeline: readonly TimelineEvent[]): number | null {
  const roles = timeline.filter((e): e is RoleEvent => e.kind === "role");
  const faults = timeline.filter((e): e is FaultEvent => e.kind === "fault");
  let worst: number | null = null;
  let hitAny = false;
  for (const inject of faults.filter((f) => f.phase === "inject")) {
    for (const member of inject.members) {
      const before = roles.filter((r) => r.member === member && r.at_ns <= inject.at_ns).at(-1);
      if (before?.role !== "primary" || before.timeline === null) continue;
      const heal = faults.find(
        (f) =>
          f.phase === "heal" &&
          f.fault === inject.fault &&
          f.members.includes(member) &&
          f.at_ns >= inject.at_ns,
      );
      if (!heal) continue;
      hitAny = true;
      const led = before.timeline;
      // A heal can itself bring the member back (repmgr's node rejoin runs inside it): count from its start.
      const healStart = heal.requested_ns ?? heal.at_ns;
      const back = roles.find(
        (r) => r.member === member && r.at_ns >= healStart && r.role === "replica" && (r.timeline ?? 0) > led,
      );
      if (!back) return null;
      worst = Math.max(worst ?? 0, nsToSeconds(back.at_ns - healStart));
    }
  }
  return hitAny ? worst : null;
}
