/**
 * Pure drawing models derived from a RunRecord: fault bands, role segments, workload buckets.
 * These only arrange what was recorded for display; figures come from the Verification.
 */
import type { Role, TimelineEvent } from "../observe/timeline.ts";
import type { RunRecord } from "../run/record.ts";
import type { WriteOperation } from "../workload/history.ts";

export interface FaultBand {
  fault: string;
  target: string;
  members: string[];
  start_ns: number;
  end_ns: number;
  /** False: never healed, the band runs to the end of the run. */
  healed: boolean;
}

export interface RoleSegment {
  role: Role;
  timeline: number | null;
  start_ns: number;
  end_ns: number;
}

export interface WorkloadBuckets {
  bucket_ns: number;
  ok: number[];
  fail: number[];
  unknown: number[];
}

const MIN_END_NS = 1_000_000_000;

/** Sorted copy; Array.prototype.sort is stable, so same-instant events keep their recorded order. */
export function byTime(timeline: TimelineEvent[]): TimelineEvent[] {
  return [...timeline].sort((a, b) => a.at_ns - b.at_ns);
}

/** The x-axis end: the run's duration, stretched to cover anything recorded after it. */
export function runEndNs(record: RunRecord): number {
  let end = Math.max(0, record.duration_s * 1e9);
  for (const e of record.timeline) end = Math.max(end, e.at_ns);
  for (const op of record.history) end = Math.max(end, op.complete_ns, op.invoke_ns);
  return Math.max(end, MIN_END_NS);
}

/**
 * Pairs each inject with the first still-open inject of the same fault and target; a heal of
 * fault "all" closes everything open. Heals with nothing to close are ignored.
 */
export function faultBands(timeline: TimelineEvent[], endNs: number): FaultBand[] {
  const open: FaultBand[] = [];
  const closed: FaultBand[] = [];
  for (const e of byTime(timeline)) {
    if (e.kind !== "fault") continue;
    if (e.phase === "inject") {
      open.push({
        fault: e.fault,
        target: e.target,
        members: [...e.members],
        start_ns: e.at_ns,
        end_ns: endNs,
        healed: false,
      });
    } else if (e.fault === "all") {
      for (const b of open.splice(0)) closed.push({ ...b, end_ns: e.at_ns, healed: true });
    } else {
      const i = open.findIndex((b) => b.fault === e.fault && b.target === e.target);
      const band = i >= 0 ? open.splice(i, 1)[0] : undefined;
      if (band) closed.push({ ...band, end_ns: e.at_ns, healed: true });
    }
  }
  return [...closed, ...open].sort((a, b) => a.start_ns - b.start_ns);
}

/**
 * A member's role over time. When several observers sampled it, one is used (outside first, as
 * clients see it) so disagreeing observers do not make the lane flicker.
 */
export function roleSegments(timeline: TimelineEvent[], member: string, endNs: number): RoleSegment[] {
  const samples = byTime(timeline).flatMap((e) => (e.kind === "role" && e.member === member ? [e] : []));
  const first = samples[0];
  if (!first) return [];
  const observer = samples.some((s) => s.observer === "outside") ? "outside" : first.observer;
  const segments: RoleSegment[] = [];
  for (const s of samples) {
    if (s.observer !== observer) continue;
    const last = segments.at(-1);
    if (last && last.role === s.role && last.timeline === s.timeline) continue;
    if (last) last.end_ns = s.at_ns;
    segments.push({ role: s.role, timeline: s.timeline, start_ns: s.at_ns, end_ns: endNs });
  }
  return segments;
}

/** Keeps the strip to a drawable number of bars on long runs: 100 ms, or a coarser multiple. */
export function bucketSize(endNs: number, maxBuckets = 1500): number {
  const base = 100_000_000;
  return base * Math.max(1, Math.ceil(endNs / base / maxBuckets));
}

/** Operations per time bucket, by the time their outcome became known. */
export function workloadBuckets(
  history: WriteOperation[],
  endNs: number,
  bucketNs = bucketSize(endNs),
): WorkloadBuckets {
  const n = Math.max(1, Math.ceil(endNs / bucketNs));
  const out: WorkloadBuckets = {
    bucket_ns: bucketNs,
    ok: new Array<number>(n).fill(0),
    fail: new Array<number>(n).fill(0),
    unknown: new Array<number>(n).fill(0),
  };
  for (const op of history) {
    const i = Math.min(n - 1, Math.max(0, Math.floor(op.complete_ns / bucketNs)));
    const series = out[op.outcome];
    series[i] = (series[i] ?? 0) + 1;
  }
  return out;
}
