/** Recovery time: how long after each fault the cluster acknowledged a write again. */

import type { Outage } from "../model/figures.ts";
import type { WriteOperation } from "../model/history.ts";
import type { TimelineEvent } from "../model/timeline.ts";
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
 * after a fault is requested (a switchover demotes the primary only at its end), so an outage
 * starts at the later of the fault and the last acknowledgement before a failed or unknown write
 * that followed it; it ends with the first acknowledgement of a write invoked at or after that
 * failure. With concurrent writers one fault can show several such outages — a write invoked a
 * moment after the first failure may still land before the shutdown reaches its session — so the
 * fault's RTO is its longest one that ended (null when the first never did). Without any failure (writes
 * only slowed or blocked), it is the time to the first acknowledgement of a write invoked after the
 * fault. Only writes invoked at or after a failure count: an earlier write completing later proves
 * nothing about the cluster accepting new work.
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
  const acks = new Acknowledgements(history);
  const failures = history.filter((op) => op.outcome !== "ok").sort((a, b) => a.invoke_ns - b.invoke_ns);
  return injections.map((fault, index) => {
    const nextFaultNs = injections[index + 1]?.at_ns ?? Number.POSITIVE_INFINITY;
    const window = { fault: fault.fault, target: fault.target, at_ns: fault.at_ns };
    let longest: { start_ns: number; end_ns: number | null } | null = null;
    let lastEndNs = Number.NEGATIVE_INFINITY;
    for (const failure of failures) {
      if (failure.invoke_ns < fault.at_ns) continue;
      if (failure.invoke_ns >= nextFaultNs) break;
      // A failure inside the outage found last belongs to it.
      if (failure.invoke_ns < lastEndNs) continue;
      const start_ns = Math.max(fault.at_ns, acks.lastCompletedBy(failure.invoke_ns));
      const end_ns = acks.firstOfWritesInvokedFrom(failure.invoke_ns);
      if (end_ns === null) {
        // Never recovered from its first outage: no RTO. Failures after a recovery that nothing
        // followed (the last writes as the workload stops, a later incident) are not this fault's.
        if (longest === null) longest = { start_ns, end_ns };
        break;
      }
      lastEndNs = end_ns;
      if (longest === null || end_ns - start_ns > (longest.end_ns as number) - longest.start_ns)
        longest = { start_ns, end_ns };
    }
    return {
      ...window,
      ...(longest ?? { start_ns: fault.at_ns, end_ns: acks.firstOfWritesInvokedFrom(fault.at_ns) }),
    };
  });
}

/** The acknowledged writes, indexed for the two questions an outage asks (each in log time). */
class Acknowledgements {
  private readonly completions: number[];
  private readonly byInvoke: WriteOperation[];
  /** earliestFrom[i]: the earliest completion among byInvoke[i…]. */
  private readonly earliestFrom: number[];

  constructor(history: readonly WriteOperation[]) {
    const acks = history.filter((op) => op.outcome === "ok");
    this.completions = acks.map((op) => op.complete_ns).sort((a, b) => a - b);
    this.byInvoke = [...acks].sort((a, b) => a.invoke_ns - b.invoke_ns);
    this.earliestFrom = new Array<number>(this.byInvoke.length);
    let earliest = Number.POSITIVE_INFINITY;
    for (let i = this.byInvoke.length - 1; i >= 0; i--) {
      earliest = Math.min(earliest, (this.byInvoke[i] as WriteOperation).complete_ns);
      this.earliestFrom[i] = earliest;
    }
  }

  /** The latest acknowledgement completed at or before `ns`; -Infinity when none was. */
  lastCompletedBy(ns: number): number {
    const count = firstIndex(this.completions.length, (i) => (this.completions[i] as number) > ns);
    return count === 0 ? Number.NEGATIVE_INFINITY : (this.completions[count - 1] as number);
  }

  /** The earliest acknowledgement of a write invoked at or after `ns`; null when there is none. */
  firstOfWritesInvokedFrom(ns: number): number | null {
    const from = firstIndex(
      this.byInvoke.length,
      (i) => (this.byInvoke[i] as WriteOperation).invoke_ns >= ns,
    );
    return from < this.byInvoke.length ? (this.earliestFrom[from] as number) : null;
  }
}

/** The first index in [0, length) for which `after` holds (it holds from some index on); length if none. */
function firstIndex(length: number, after: (index: number) => boolean): number {
  let low = 0;
  let high = length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (after(middle)) high = middle;
    else low = middle + 1;
  }
  return low;
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
