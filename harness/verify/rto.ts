/** Recovery time: how long after each fault the cluster acknowledged a write again. */

import type { TimelineEvent } from "../observe/timeline.ts";
import type { WriteOperation } from "../workload/history.ts";
import type { Outage } from "./figures.ts";
import { formatInstant, nsToSeconds } from "./units.ts";

export interface FaultRto {
  fault: string;
  target: string;
  at_ns: number;
  /** When writes stopped being acknowledged because of this fault (≥ at_ns). */
  outage_start_ns: number;
  /** null: no write invoked after the fault was ever acknowledged. */
  rto_s: number | null;
}

type FaultEvent = Extract<TimelineEvent, { kind: "fault" }>;

function isInjection(event: TimelineEvent): event is FaultEvent {
  return event.kind === "fault" && event.phase === "inject";
}

/**
 * RTO is how long writes were impossible, measured from the data. Writes may go on for a while
 * after a fault is requested (a switchover demotes the primary only at its end), so the outage
 * starts at the later of the fault and the last acknowledgement before the first failed or
 * unknown write that followed it; it ends with the first acknowledgement of a write invoked after
 * that disruption. Without any disruption (writes only slowed or blocked), it is the time to the
 * first acknowledgement of a write invoked after the fault. Only writes invoked at or after the
 * fault count: an earlier write completing later proves nothing about the cluster accepting new work.
 */
export function rtoPerFault(
  history: readonly WriteOperation[],
  timeline: readonly TimelineEvent[],
): FaultRto[] {
  return faultWindows(history, timeline).map((window) => ({
    fault: window.fault,
    target: window.target,
    at_ns: window.at_ns,
    outage_start_ns: window.start_ns,
    rto_s: window.end_ns === null ? null : nsToSeconds(window.end_ns - window.start_ns),
  }));
}

/** The windows rtoPerFault measures, for the writes of one entry point, named after it. */
export function outagesPerFault(
  group: string,
  history: readonly WriteOperation[],
  timeline: readonly TimelineEvent[],
): Outage[] {
  return faultWindows(history, timeline).map((window) => ({ group, ...window }));
}

/** All entry points' outages in timeline order; those of one fault keep the entry points' order. */
export function mergeOutages(perPath: readonly (readonly Outage[])[]): Outage[] {
  return perPath.flat().sort((a, b) => a.at_ns - b.at_ns);
}

/** One window per injection, as defined above rtoPerFault; RTO and outages both come from here. */
function faultWindows(
  history: readonly WriteOperation[],
  timeline: readonly TimelineEvent[],
): Omit<Outage, "group">[] {
  const injections = timeline.filter(isInjection).sort((a, b) => a.at_ns - b.at_ns);
  const byInvoke = [...history].sort((a, b) => a.invoke_ns - b.invoke_ns);
  return injections.map((fault, index) => {
    const nextFaultNs = injections[index + 1]?.at_ns ?? Number.POSITIVE_INFINITY;
    const disruption = byInvoke.find(
      (op) => op.outcome !== "ok" && op.invoke_ns >= fault.at_ns && op.invoke_ns < nextFaultNs,
    );
    let outageStartNs = fault.at_ns;
    let fromNs = fault.at_ns;
    if (disruption) {
      fromNs = disruption.invoke_ns;
      for (const op of history) {
        if (op.outcome === "ok" && op.complete_ns <= disruption.invoke_ns) {
          outageStartNs = Math.max(outageStartNs, op.complete_ns);
        }
      }
    }
    return {
      fault: fault.fault,
      target: fault.target,
      at_ns: fault.at_ns,
      start_ns: outageStartNs,
      end_ns: firstAckOfWriteInvokedFrom(history, fromNs),
    };
  });
}

function firstAckOfWriteInvokedFrom(history: readonly WriteOperation[], fromNs: number): number | null {
  let firstAckNs: number | null = null;
  for (const op of history) {
    if (
      op.outcome === "ok" &&
      op.invoke_ns >= fromNs &&
      (firstAckNs === null || op.complete_ns < firstAckNs)
    ) {
      firstAckNs = op.complete_ns;
    }
  }
  return firstAckNs;
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

export function unrecoveredFaultProblems(perFault: readonly FaultRto[], path?: string): string[] {
  const through = path ? ` through ${path}` : "";
  return perFault
    .filter((fault) => fault.rto_s === null)
    .map(
      (fault) =>
        `no acknowledged write${through} after fault ${fault.fault} at ${formatInstant(fault.at_ns)}`,
    );
}

/**
 * Per fault, the worst RTO over the ways applications reach the cluster: a client path that took
 * longer (or never recovered) is what some application saw; the best path would hide it.
 * Every list holds the same faults in the same order (one per injection).
 */
export function worstPerFault(perPath: readonly (readonly FaultRto[])[]): FaultRto[] {
  const [first, ...others] = perPath;
  if (!first) return [];
  return first.map((fault, index) =>
    others.reduce<FaultRto>((worst, path) => {
      const candidate = path[index];
      if (!candidate || worst.rto_s === null) return worst;
      return candidate.rto_s === null || candidate.rto_s > worst.rto_s ? candidate : worst;
    }, fault),
  );
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
