import type { Outage } from "../model/figures.ts";
import type { WriteOperation } from "../model/history.ts";
import type { RunRecord } from "../model/record.ts";
/**
 * Pure drawing models derived from a RunRecord: fault bands, role segments, workload buckets.
 * These only arrange what was recorded for display; figures, outages and split-brain intervals
 * come from the Verification.
 */
import type { Role, TimelineEvent } from "../model/timeline.ts";
import { nsToSeconds } from "../verify/units.ts";

export interface FaultBand {
  fault: string;
  target: string;
  members: string[];
  start_ns: number;
  end_ns: number;
  /** False: never healed, the band runs to the end of the run. */
  healed: boolean;
}

/**
 * A lane's state. "frozen" (a paused process) is not sampled yet; it is drawn when a sample says so
 * and implied by a pause fault on members nobody samples.
 */
export type LaneRole = Role | "frozen";

export interface RoleSegment {
  role: LaneRole;
  timeline: number | null;
  start_ns: number;
  end_ns: number;
  /** Not sampled: implied by a fault the harness injected into a member nobody samples (etcd, monitor). */
  implied?: boolean;
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

/** What a fault does to a member, for lanes that are not sampled: the harness knows what it did. */
const FAULT_IMPLIES: Record<string, LaneRole> = {
  kill: "down",
  stop: "down",
  crash: "down",
  partition: "unreachable",
  isolate: "unreachable",
  pause: "frozen",
  freeze: "frozen",
};

/**
 * Segments for a member without role samples (etcd, a monitor, a witness): the time a fault that
 * certainly changes its state (a kill, a partition, a pause) held it. Elsewhere the lane stays blank.
 */
export function impliedSegments(bands: FaultBand[], member: string): RoleSegment[] {
  const out: RoleSegment[] = [];
  for (const b of bands) {
    const role = Object.hasOwn(FAULT_IMPLIES, b.fault) ? FAULT_IMPLIES[b.fault] : undefined;
    if (role === undefined || !b.members.includes(member)) continue;
    out.push({ role, timeline: null, start_ns: b.start_ns, end_ns: b.end_ns, implied: true });
  }
  return out;
}

export type HaState = "complete" | "incomplete" | "no-primary" | "unreachable" | "other";

export interface HaStatusSegment {
  state: HaState;
  source: string;
  text: string;
  start_ns: number;
  end_ns: number;
}

/** The cluster-wide status lines the HA observer records, e.g. "patroni status: complete (primary n1)". */
function isStatusEvent(e: TimelineEvent): e is Extract<TimelineEvent, { kind: "ha" }> {
  return e.kind === "ha" && e.member === null && /\bstatus$/.test(e.source);
}

export function haState(text: string): HaState {
  if (text.startsWith("complete")) return "complete";
  if (text.startsWith("incomplete")) return "incomplete";
  if (text.startsWith("no primary")) return "no-primary";
  if (/unreachable/i.test(text)) return "unreachable";
  return "other";
}

/** What the HA manager itself said about the cluster, as a lane: each status holds until the next. */
export function haStatusSegments(timeline: TimelineEvent[], endNs: number): HaStatusSegment[] {
  const out: HaStatusSegment[] = [];
  for (const e of byTime(timeline)) {
    if (!isStatusEvent(e)) continue;
    const last = out.at(-1);
    if (last && last.text === e.text) continue;
    if (last) last.end_ns = e.at_ns;
    out.push({ state: haState(e.text), source: e.source, text: e.text, start_ns: e.at_ns, end_ns: endNs });
  }
  return out;
}

/** HA-manager events about one member (not the cluster-wide status lines), for lane markers. */
export function haEvents(timeline: TimelineEvent[]): Extract<TimelineEvent, { kind: "ha" }>[] {
  return byTime(timeline).flatMap((e) => (e.kind === "ha" && !isStatusEvent(e) ? [e] : []));
}

export interface LatencyBuckets {
  bucket_ns: number;
  /** Latency of acknowledged writes completing in each bucket, in ns; null where none completed. */
  p50: (number | null)[];
  p99: (number | null)[];
}

/** Nearest-rank percentile of an ascending list: a value that was actually observed. */
export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
  return sorted[rank - 1] ?? null;
}

/** p50 / p99 of complete − invoke for the acknowledged writes completing in each bucket. */
export function latencyBuckets(
  history: WriteOperation[],
  endNs: number,
  bucketNs = bucketSize(endNs),
): LatencyBuckets {
  const n = Math.max(1, Math.ceil(endNs / bucketNs));
  const per: number[][] = Array.from({ length: n }, () => []);
  for (const op of history) {
    if (op.outcome !== "ok") continue;
    const i = Math.min(n - 1, Math.max(0, Math.floor(op.complete_ns / bucketNs)));
    per[i]?.push(Math.max(0, op.complete_ns - op.invoke_ns));
  }
  const p50: (number | null)[] = [];
  const p99: (number | null)[] = [];
  for (const latencies of per) {
    latencies.sort((a, b) => a - b);
    p50.push(percentile(latencies, 0.5));
    p99.push(percentile(latencies, 0.99));
  }
  return { bucket_ns: bucketNs, p50, p99 };
}

/** The span of the x-axis and where its zero is (the run's start, or a fault when comparing runs). */
export interface TimeWindow {
  from_ns: number;
  to_ns: number;
  origin_ns: number;
}

export function fullWindow(record: RunRecord): TimeWindow {
  return { from_ns: 0, to_ns: runEndNs(record), origin_ns: 0 };
}

/** The first injected fault, the natural zero when runs of one scenario are compared. */
export function firstFaultNs(timeline: TimelineEvent[]): number | null {
  let first: number | null = null;
  for (const e of timeline) {
    if (e.kind === "fault" && e.phase === "inject" && (first === null || e.at_ns < first)) first = e.at_ns;
  }
  return first;
}

/** Where the workload starts: the first write invoked, or the run's start without writes. */
function workloadStartNs(record: RunRecord): number {
  let first: number | null = null;
  for (const op of record.history) if (first === null || op.invoke_ns < first) first = op.invoke_ns;
  return first ?? 0;
}

/**
 * One window per run, all of the same length and zeroed at each run's first fault, so the same
 * fault on several topologies lines up. It starts a second before the earliest workload (cluster
 * bootstrap is not part of the comparison) and ends with the longest run.
 */
export function alignedWindows(records: RunRecord[]): TimeWindow[] {
  const origins = records.map((r) => firstFaultNs(r.timeline) ?? workloadStartNs(r));
  const before = Math.max(
    0,
    ...records.map((r, i) => Math.min(origins[i] ?? 0, (origins[i] ?? 0) - workloadStartNs(r) + 1e9)),
  );
  const after = Math.max(1e9, ...records.map((r, i) => runEndNs(r) - (origins[i] ?? 0)));
  return origins.map((origin) => ({ from_ns: origin - before, to_ns: origin + after, origin_ns: origin }));
}

/** How long an outage verify found lasted, in seconds; null when writes never came back. */
export function outageSeconds(outage: Outage): number | null {
  return outage.end_ns === null ? null : nsToSeconds(outage.end_ns - outage.start_ns);
}

/** Outages name their entry point only when clients wrote through more than one. */
export function outagesNamePaths(outages: readonly Outage[]): boolean {
  return new Set(outages.map((o) => o.group)).size > 1;
}

/** The outages verify found after one fault band (same fault, target and injection instant). */
export function outagesOfBand(outages: readonly Outage[], band: FaultBand): Outage[] {
  return outages.filter(
    (o) => o.fault === band.fault && o.target === band.target && o.at_ns === band.start_ns,
  );
}
