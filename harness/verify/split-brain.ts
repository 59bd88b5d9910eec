/**
 * Two kinds of split-brain, kept apart: divergence (two nodes acknowledged writes at overlapping
 * times, from the history: certain) and two primaries by role (two nodes sampled writable at once,
 * from the timeline: observed, and not by itself proof that both took writes).
 */

import type { DualPrimary, SplitBrain, SplitBrainInterval, SplitBrainSource } from "../model/figures.ts";
import type { WriteOperation } from "../model/history.ts";
import type { TimelineEvent } from "../model/timeline.ts";
import { formatDuration, formatInstant, nsToSeconds } from "./units.ts";

interface Interval {
  start_ns: number;
  end_ns: number;
}

export interface SplitBrainEvidence {
  /** Longest co-existence found, in nanoseconds; 0 when none. */
  window_ns: number;
  evidence: string[];
  intervals: SplitBrainInterval[];
}

/** Acknowledged writes of one node on one timeline. */
interface AckGroup {
  node: string;
  timeline: number | null;
  ops: WriteOperation[];
  /** Where the node certainly accepted writes; null when its acks do not pin down any span. */
  certain: Interval | null;
}

/** Code-point order, so the evidence reads the same whatever the host's locale. */
function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function label(group: AckGroup): string {
  return `${group.node} (tl ${group.timeline ?? "?"})`;
}

function firstAckNs(group: AckGroup): number {
  return group.ops.reduce((earliest, op) => Math.min(earliest, op.complete_ns), Number.POSITIVE_INFINITY);
}

function overlapOf(a: Interval, b: Interval): Interval | null {
  const start_ns = Math.max(a.start_ns, b.start_ns);
  const end_ns = Math.min(a.end_ns, b.end_ns);
  return end_ns > start_ns ? { start_ns, end_ns } : null;
}

/**
 * Instants at which a node was seen not accepting writes: sampled in any role but primary, or a
 * write sent to it that failed or got no answer. A node can stop and come back on the same
 * timeline (a frozen VM resuming, a restart within the lease), so its acknowledgements only prove
 * continuous acceptance between two acks with no such instant in between.
 */
function interruptions(
  history: readonly WriteOperation[],
  timeline: readonly TimelineEvent[],
): Map<string, number[]> {
  const byNode = new Map<string, number[]>();
  const add = (node: string, at_ns: number) => byNode.set(node, [...(byNode.get(node) ?? []), at_ns]);
  for (const event of timeline)
    if (event.kind === "role" && event.role !== "primary") add(event.member, event.at_ns);
  for (const op of history) if (op.outcome !== "ok" && op.node !== null) add(op.node, op.complete_ns);
  return byNode;
}

function ackGroups(history: readonly WriteOperation[], timeline: readonly TimelineEvent[]): AckGroup[] {
  const stops = interruptions(history, timeline);
  const byKey = new Map<string, AckGroup>();
  for (const op of history) {
    if (op.outcome !== "ok" || op.node === null) continue;
    const key = `${op.node}\u0000${op.timeline}`;
    let group = byKey.get(key);
    if (group === undefined) {
      group = { node: op.node, timeline: op.timeline, ops: [], certain: null };
      byKey.set(key, group);
    }
    group.ops.push(op);
  }
  // Split each node/timeline into runs of acknowledgements not separated by an interruption.
  const groups: AckGroup[] = [];
  for (const group of byKey.values()) {
    const ops = [...group.ops].sort((a, b) => a.complete_ns - b.complete_ns);
    const nodeStops = stops.get(group.node) ?? [];
    let run: AckGroup = { ...group, ops: [] };
    for (const op of ops) {
      const previous = run.ops.at(-1);
      if (previous && nodeStops.some((t) => t > previous.complete_ns && t < op.invoke_ns)) {
        groups.push(run);
        run = { ...group, ops: [] };
      }
      run.ops.push(op);
    }
    groups.push(run);
  }
  for (const group of groups) {
    // Each op committed somewhere in [invoke, complete]; so the node accepted writes no later than
    // the earliest completion and no earlier than the latest invocation, and in between.
    let start_ns = Number.POSITIVE_INFINITY;
    let end_ns = Number.NEGATIVE_INFINITY;
    for (const op of group.ops) {
      start_ns = Math.min(start_ns, op.complete_ns);
      end_ns = Math.max(end_ns, op.invoke_ns);
    }
    group.certain = start_ns <= end_ns ? { start_ns, end_ns } : null;
  }
  return groups.sort((a, b) => byName(a.node, b.node) || (a.timeline ?? 0) - (b.timeline ?? 0));
}

/** The longest op of `inner` that certainly committed inside the certain span of `outer`. */
function longestOpInside(inner: AckGroup, outer: AckGroup): WriteOperation | null {
  const span = outer.certain;
  if (span === null) return null;
  let longest: WriteOperation | null = null;
  for (const op of inner.ops) {
    if (op.invoke_ns < span.start_ns || op.complete_ns > span.end_ns) continue;
    if (longest === null || op.complete_ns - op.invoke_ns > longest.complete_ns - longest.invoke_ns)
      longest = op;
  }
  return longest;
}

interface Finding {
  start_ns: number;
  window_ns: number;
  text: string;
  /** Where it happened, for the report to draw: the overlap, or the op committed inside the other's span. */
  intervals: SplitBrainInterval[];
}

function interval(span: Interval, members: string[], source: SplitBrainSource): SplitBrainInterval {
  return { start_ns: span.start_ns, end_ns: span.end_ns, members, source };
}

/**
 * Certain evidence from acknowledgements, per pair of (node, timeline) groups of different nodes:
 * overlapping certain spans, or else an op of one committed inside the other's certain span.
 * The same node on two timelines is a restart or a re-promotion, not a split-brain.
 */
export function splitBrainFromAcks(
  history: readonly WriteOperation[],
  timeline: readonly TimelineEvent[] = [],
): SplitBrainEvidence {
  const groups = ackGroups(history, timeline);
  const findings: Finding[] = [];
  for (const [i, a] of groups.entries()) {
    for (const b of groups.slice(i + 1)) {
      if (a.node === b.node) continue;
      const overlap = a.certain !== null && b.certain !== null ? overlapOf(a.certain, b.certain) : null;
      if (overlap !== null) {
        const window_ns = overlap.end_ns - overlap.start_ns;
        const [first, second] = firstAckNs(a) <= firstAckNs(b) ? [a, b] : [b, a];
        findings.push({
          start_ns: overlap.start_ns,
          window_ns,
          text: `acknowledged: ${label(first)} and ${label(second)} both committed writes during ${formatDuration(window_ns)} from ${formatInstant(overlap.start_ns)}`,
          intervals: [interval(overlap, [first.node, second.node], "acknowledged")],
        });
        continue;
      }
      for (const [inner, outer] of [
        [a, b],
        [b, a],
      ] as const) {
        const op = longestOpInside(inner, outer);
        if (op === null) continue;
        const window_ns = op.complete_ns - op.invoke_ns;
        findings.push({
          start_ns: op.invoke_ns,
          window_ns,
          text: `acknowledged: ${label(inner)} committed write ${op.id} within ${formatDuration(window_ns)} from ${formatInstant(op.invoke_ns)}, while ${label(outer)} was certainly committing writes`,
          intervals: [
            interval(
              { start_ns: op.invoke_ns, end_ns: op.complete_ns },
              [inner.node, outer.node],
              "acknowledged",
            ),
          ],
        });
      }
    }
  }
  return summarize(findings);
}

type RoleEvent = Extract<TimelineEvent, { kind: "role" }>;

/** Sorted, disjoint union of intervals. */
function union(intervals: Interval[]): Interval[] {
  const merged: Interval[] = [];
  for (const interval of [...intervals].sort((a, b) => a.start_ns - b.start_ns)) {
    const last = merged.at(-1);
    if (last !== undefined && interval.start_ns <= last.end_ns) {
      last.end_ns = Math.max(last.end_ns, interval.end_ns);
    } else {
      merged.push({ ...interval });
    }
  }
  return merged;
}

/**
 * Per member, when it was sampled primary: from the sample that saw it become primary to the next
 * sample of it that did not, or to the end of the timeline. Observers are followed separately and
 * their views united, since "unreachable" from one side of a partition is no proof that the node
 * stopped being primary on the other.
 */
export function primaryIntervals(timeline: readonly TimelineEvent[]): Map<string, Interval[]> {
  const endNs = timeline.reduce((latest, event) => Math.max(latest, event.at_ns), Number.NEGATIVE_INFINITY);
  const samplesByView = new Map<string, RoleEvent[]>();
  for (const event of timeline) {
    if (event.kind !== "role") continue;
    const view = `${event.member}\u0000${event.observer}`;
    const samples = samplesByView.get(view);
    if (samples === undefined) samplesByView.set(view, [event]);
    else samples.push(event);
  }
  const intervalsByMember = new Map<string, Interval[]>();
  for (const samples of samplesByView.values()) {
    samples.sort((a, b) => a.at_ns - b.at_ns);
    const intervals: Interval[] = [];
    let primarySinceNs: number | null = null;
    for (const sample of samples) {
      if (sample.role === "primary") {
        primarySinceNs ??= sample.at_ns;
      } else if (primarySinceNs !== null) {
        intervals.push({ start_ns: primarySinceNs, end_ns: sample.at_ns });
        primarySinceNs = null;
      }
    }
    if (primarySinceNs !== null) intervals.push({ start_ns: primarySinceNs, end_ns: endNs });
    const member = samples[0]?.member;
    if (member === undefined) continue;
    intervalsByMember.set(member, (intervalsByMember.get(member) ?? []).concat(intervals));
  }
  for (const [member, intervals] of intervalsByMember) intervalsByMember.set(member, union(intervals));
  return intervalsByMember;
}

/** Observed evidence: two members sampled primary (so not in recovery, i.e. writable) at once. */
export function splitBrainFromSamples(timeline: readonly TimelineEvent[]): SplitBrainEvidence {
  const members = [...primaryIntervals(timeline).entries()].sort(([a], [b]) => byName(a, b));
  const findings: Finding[] = [];
  for (const [i, [memberA, intervalsA]] of members.entries()) {
    for (const [memberB, intervalsB] of members.slice(i + 1)) {
      const overlaps = intervalsA.flatMap((a) => intervalsB.flatMap((b) => overlapOf(a, b) ?? []));
      overlaps.sort((a, b) => a.start_ns - b.start_ns);
      const first = overlaps[0];
      if (first === undefined) continue;
      const window_ns = overlaps.reduce((sum, overlap) => sum + overlap.end_ns - overlap.start_ns, 0);
      findings.push({
        start_ns: first.start_ns,
        window_ns,
        text: `sampled: ${memberA} and ${memberB} both writable for ${formatDuration(window_ns)} from ${formatInstant(first.start_ns)}`,
        intervals: overlaps.map((overlap) => interval(overlap, [memberA, memberB], "sampled")),
      });
    }
  }
  return summarize(findings);
}

function byStart(intervals: SplitBrainInterval[]): SplitBrainInterval[] {
  return [...intervals].sort((a, b) => a.start_ns - b.start_ns);
}

function summarize(findings: Finding[]): SplitBrainEvidence {
  const ordered = [...findings].sort((a, b) => a.start_ns - b.start_ns);
  return {
    window_ns: ordered.reduce((longest, finding) => Math.max(longest, finding.window_ns), 0),
    evidence: ordered.map((finding) => finding.text),
    intervals: byStart(ordered.flatMap((finding) => finding.intervals)),
  };
}

/** Divergence: two members acknowledged writes at overlapping times (certain data loss risk). */
export function detectSplitBrain(
  history: readonly WriteOperation[],
  timeline: readonly TimelineEvent[],
): SplitBrain {
  const fromAcks = splitBrainFromAcks(history, timeline);
  return {
    detected: fromAcks.evidence.length > 0,
    window_s: nsToSeconds(fromAcks.window_ns),
    evidence: fromAcks.evidence,
    intervals: fromAcks.intervals,
  };
}

/**
 * Two primaries by role: how long two members answered pg_is_in_recovery() = false at once. Clients
 * can be routed to the wrong one, though under synchronous replication its writes may only block.
 */
export function detectDualPrimary(timeline: readonly TimelineEvent[]): DualPrimary {
  const fromSamples = splitBrainFromSamples(timeline);
  const covered = union(fromSamples.intervals.map(({ start_ns, end_ns }) => ({ start_ns, end_ns })));
  const total_ns = covered.reduce((sum, span) => sum + span.end_ns - span.start_ns, 0);
  return { seconds: nsToSeconds(total_ns), evidence: fromSamples.evidence, intervals: fromSamples.intervals };
}
