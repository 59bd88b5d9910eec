/** Recovery time: how long after each fault the cluster acknowledged a write again. */

import type { TimelineEvent } from "../observe/timeline.ts";
import type { WriteOperation } from "../workload/history.ts";
import { formatInstant, nsToSeconds } from "./units.ts";

export interface FaultRto {
  fault: string;
  target: string;
  at_ns: number;
  /** null: no write invoked after the fault was ever acknowledged. */
  rto_s: number | null;
}

type FaultEvent = Extract<TimelineEvent, { kind: "fault" }>;

function isInjection(event: TimelineEvent): event is FaultEvent {
  return event.kind === "fault" && event.phase === "inject";
}

/**
 * Only writes invoked at or after the fault count: an earlier write that completes later proves
 * nothing about the cluster accepting new work.
 */
export function rtoPerFault(
  history: readonly WriteOperation[],
  timeline: readonly TimelineEvent[],
): FaultRto[] {
  const injections = timeline.filter(isInjection).sort((a, b) => a.at_ns - b.at_ns);
  const acks = history.filter((op) => op.outcome === "ok");
  return injections.map((fault) => {
    let firstAckNs: number | null = null;
    for (const op of acks) {
      if (op.invoke_ns >= fault.at_ns && (firstAckNs === null || op.complete_ns < firstAckNs)) {
        firstAckNs = op.complete_ns;
      }
    }
    return {
      fault: fault.fault,
      target: fault.target,
      at_ns: fault.at_ns,
      rto_s: firstAckNs === null ? null : nsToSeconds(firstAckNs - fault.at_ns),
    };
  });
}

/** Worst RTO over all faults; null when there was no fault or any fault never saw a recovery. */
export function worstRto(perFault: readonly FaultRto[]): number | null {
  let worst: number | null = null;
  for (const { rto_s } of perFault) {
    if (rto_s === null) return null;
    worst = worst === null ? rto_s : Math.max(worst, rto_s);
  }
  return worst;
}

export function unrecoveredFaultProblems(perFault: readonly FaultRto[]): string[] {
  return perFault
    .filter((fault) => fault.rto_s === null)
    .map((fault) => `no acknowledged write after fault ${fault.fault} at ${formatInstant(fault.at_ns)}`);
}

/** Longest silence between consecutive acknowledgements, in seconds; null with fewer than two. */
export function maxWriteGap(history: readonly WriteOperation[]): number | null {
  const ackTimes = history
    .filter((op) => op.outcome === "ok")
    .map((op) => op.complete_ns)
    .sort((a, b) => a - b);
  let longestNs: number | null = null;
  let previousNs: number | null = null;
  for (const ackNs of ackTimes) {
    if (previousNs !== null) longestNs = Math.max(longestNs ?? 0, ackNs - previousNs);
    previousNs = ackNs;
  }
  return longestNs === null ? null : nsToSeconds(longestNs);
}
