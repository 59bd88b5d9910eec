/**
 * What readers saw, judged in real-time order (Jepsen style): reads that missed an acknowledged
 * write (stale), reads of data missing at the end (lost data), and readers that went back in time
 * (non-monotonic). Only ok reads count; an unknown write outcome is never guessed.
 */

import type {
  LostDataRead,
  NonMonotonicRead,
  OffendingRead,
  PathReads,
  ReadCheck,
  StaleRead,
} from "../model/figures.ts";
import type { ReadOperation, ReadTarget, WriteOperation } from "../model/history.ts";
import { lsnDiff, parseLsn } from "./lsn.ts";
import { formatInstant, nsToSeconds } from "./units.ts";

function offending(read: ReadOperation): OffendingRead {
  const { reader, group, target, node, invoke_ns, complete_ns } = read;
  return { reader, group, target, node, invoke_ns, complete_ns };
}

/** Code-point order, so results read the same whatever the host's locale. */
function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Examples quoted in a problem before the rest is only counted. */
const EXAMPLES = 3;

/** Collects one kind of problem; it becomes one line however often it happens. */
class Tally {
  private count = 0;
  private readonly examples: string[] = [];

  add(example: string): void {
    this.count += 1;
    if (this.examples.length < EXAMPLES) this.examples.push(example);
  }

  line(what: string): string | null {
    if (this.count === 0) return null;
    const more = this.count > this.examples.length ? `, and ${this.count - this.examples.length} more` : "";
    return `${what} (${this.count}): ${this.examples.join("; ")}${more}`;
  }
}

/**
 * The acknowledged writes of one writer, ordered by id, and how many of them the sweep has admitted
 * (acknowledged strictly before the current read). Under the model (one write in flight per
 * writer) id order is acknowledgement order, so the admitted writes are the lowest ranks; when a
 * history breaks that, a Fenwick tree over ranks counts them instead.
 */
class WriterAcks {
  readonly ids: Float64Array;
  readonly ack_ns: Float64Array;
  /** Rank of the earliest acknowledgement among ranks i… (ties: the lower id). */
  readonly earliestFrom: Int32Array;
  /** Ranks in acknowledgement order; null when that is id order. */
  private readonly byAck: Int32Array | null;
  private readonly tree: Int32Array | null;
  admitted = 0;

  constructor(readonly ops: readonly WriteOperation[]) {
    const n = ops.length;
    this.ids = new Float64Array(n);
    this.ack_ns = new Float64Array(n);
    let inAckOrder = true;
    for (let i = 0; i < n; i++) {
      const op = ops[i] as WriteOperation;
      this.ids[i] = op.id;
      this.ack_ns[i] = op.complete_ns;
      if (i > 0 && op.complete_ns < (this.ack_ns[i - 1] as number)) inAckOrder = false;
    }
    this.earliestFrom = new Int32Array(n);
    for (let i = n - 1; i >= 0; i--) {
      const next = i + 1 < n ? (this.earliestFrom[i + 1] as number) : i;
      // `<=` keeps the lower id (this one) on equal acknowledgement times.
      this.earliestFrom[i] = (this.ack_ns[i] as number) <= (this.ack_ns[next] as number) ? i : next;
    }
    if (inAckOrder) {
      this.byAck = null;
      this.tree = null;
    } else {
      const ack_ns = this.ack_ns;
      this.byAck = Int32Array.from(ops.keys()).sort((a, b) => (ack_ns[a] as number) - (ack_ns[b] as number));
      this.tree = new Int32Array(n + 1);
    }
  }

  /** Admits every write acknowledged strictly before atNs: an ack at the same instant is concurrent. */
  admitBefore(atNs: number, wal: AckedWal | null): void {
    const n = this.ids.length;
    const { byAck, tree, ack_ns } = this;
    while (this.admitted < n) {
      const rank = byAck === null ? this.admitted : (byAck[this.admitted] as number);
      if ((ack_ns[rank] as number) >= atNs) return;
      if (tree !== null)
        for (let i = rank + 1; i < tree.length; i += i & -i) tree[i] = (tree[i] as number) + 1;
      if (wal !== null) wal.add(this.ops[rank] as WriteOperation);
      this.admitted += 1;
    }
  }

  /** How many admitted writes have a rank ≥ k. */
  admittedFrom(k: number): number {
    const { tree } = this;
    if (tree === null) return Math.max(0, this.admitted - k);
    let below = 0;
    for (let i = k; i > 0; i &= i - 1) below += tree[i] as number;
    return this.admitted - below;
  }

  /** Number of ids ≤ head. */
  rankAbove(head: number): number {
    const { ids } = this;
    let lo = 0;
    let hi = ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((ids[mid] as number) <= head) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** The highest WAL position acknowledged so far, over all timelines and per timeline. */
class AckedWal {
  any: bigint | null = null;
  readonly onTimeline = new Map<number, bigint>();

  constructor(private readonly malformed: Tally) {}

  add(op: WriteOperation): void {
    if (op.lsn === null) return;
    const lsn = tryLsn(op.lsn);
    if (lsn === null) {
      this.malformed.add(`write ${op.id}: ${JSON.stringify(op.lsn)}`);
      return;
    }
    if (this.any === null || lsn > this.any) this.any = lsn;
    if (op.timeline === null) return;
    const highest = this.onTimeline.get(op.timeline);
    if (highest === undefined || lsn > highest) this.onTimeline.set(op.timeline, lsn);
  }
}

/** The highest head of one writer a reader has seen, and the read that first saw it. */
interface HighWater {
  id: number;
  seen_ns: number;
  node: string | null;
  /** False once a drop below it was reported: reported again only after a new high. */
  armed: boolean;
}

interface ReaderState {
  last_complete_ns: number;
  overlapping: boolean;
  high: Map<string, HighWater>;
}

/** A read that saw an id absent at the end, until the history says who wrote it and how it went. */
interface LostCandidate {
  read: ReadOperation;
  writer: string;
  id: number;
  path: PathReads;
}

function maxOrNull(a: number | null, b: number): number {
  return a === null || b > a ? b : a;
}

function readOrder(a: ReadOperation, b: ReadOperation): number {
  return a.invoke_ns - b.invoke_ns || byName(a.reader, b.reader) || a.complete_ns - b.complete_ns;
}

/** Reads in invoke order; a history usually nearly is, so the copy and sort are often skipped. */
function inReadOrder(reads: readonly ReadOperation[]): readonly ReadOperation[] {
  for (let i = 1; i < reads.length; i++)
    if (readOrder(reads[i - 1] as ReadOperation, reads[i] as ReadOperation) > 0)
      return [...reads].sort(readOrder);
  return reads;
}

function tryLsn(text: string): bigint | null {
  try {
    return parseLsn(text);
  } catch {
    return null;
  }
}

function emptyPath(path: string): PathReads {
  return {
    path,
    reads: 0,
    ok_reads: 0,
    stale_reads: 0,
    max_staleness_s: null,
    lost_data_reads: 0,
    non_monotonic_reads: 0,
    max_lag_bytes: null,
  };
}

/**
 * One sweep over reads in invoke order, admitting acknowledged writes as their acks complete.
 * Costs O(writes · log writes + reads · writers · log writes).
 */
export function checkReads(
  writes: readonly WriteOperation[],
  reads: readonly ReadOperation[],
  final: readonly number[] | null,
): ReadCheck {
  const problems: string[] = [];
  const outOfOrder = new Tally();
  const badWriteLsn = new Tally();
  const badReadLsn = new Tally();
  const unwritten = new Tally();
  const otherWriter = new Tally();
  const overlapping = new Tally();

  const present = final === null ? null : new Set(final);
  // Stale reads are judged against the writes that survived: missing a write that was later lost
  // is the lost write's consequence (counted there), and would make every later read "stale" by
  // the time since that loss rather than by how far behind its node was.
  const okByWriter = new Map<string, WriteOperation[]>();
  for (const op of writes) {
    if (op.outcome !== "ok" || (present !== null && !present.has(op.id))) continue;
    const ops = okByWriter.get(op.writer);
    if (ops === undefined) okByWriter.set(op.writer, [op]);
    else ops.push(op);
  }
  const ackedBy = new Map<string, WriterAcks>();
  for (const writer of [...okByWriter.keys()].sort(byName)) {
    const ops = (okByWriter.get(writer) as WriteOperation[]).sort((a, b) => a.id - b.id);
    for (let i = 1; i < ops.length; i++) {
      const previous = ops[i - 1] as WriteOperation;
      const op = ops[i] as WriteOperation;
      // The model behind "head": one write in flight per writer, so ids follow time. When they do
      // not, stale reads of this writer are still judged by id, but a head no longer means "all below".
      if (previous.complete_ns > op.invoke_ns)
        outOfOrder.add(`${writer}: ${previous.id} was acknowledged after ${op.id} was sent`);
    }
    ackedBy.set(writer, new WriterAcks(ops));
  }
  const allAcks = [...ackedBy.values()];
  // WAL positions are parsed only when some replica read has one to compare with.
  const wal = reads.some((r) => r.outcome === "ok" && r.target === "replica" && r.lsn !== null)
    ? new AckedWal(badWriteLsn)
    : null;

  // Without a read there is nothing to judge, and the lost-writes check already names the final state.
  if (final === null && reads.some((r) => r.outcome === "ok"))
    problems.push("final state unreadable: reads of lost data unknown");
  const lostCandidates: LostCandidate[] = [];

  const stale: StaleRead[] = [];
  const non_monotonic: NonMonotonicRead[] = [];
  const pathsByGroup = new Map<string, Map<ReadTarget, PathReads>>();
  const readers = new Map<string, ReaderState>();
  let okReads = 0;
  let maxStaleness: number | null = null;
  let replicaStaleness: number | null = null;
  let replicaLag: number | null = null;

  for (const read of inReadOrder(reads)) {
    let byTarget = pathsByGroup.get(read.group);
    if (byTarget === undefined) {
      byTarget = new Map();
      pathsByGroup.set(read.group, byTarget);
    }
    let path = byTarget.get(read.target);
    if (path === undefined) {
      path = emptyPath(`${read.group}/${read.target}`);
      byTarget.set(read.target, path);
    }
    path.reads += 1;

    let state = readers.get(read.reader);
    if (state === undefined) {
      state = { last_complete_ns: Number.NEGATIVE_INFINITY, overlapping: false, high: new Map() };
      readers.set(read.reader, state);
    }
    if (read.invoke_ns < state.last_complete_ns && !state.overlapping) {
      state.overlapping = true;
      overlapping.add(`${read.reader} at ${formatInstant(read.invoke_ns)}`);
    }
    if (read.complete_ns > state.last_complete_ns) state.last_complete_ns = read.complete_ns;

    if (read.outcome !== "ok") continue;
    okReads += 1;
    path.ok_reads += 1;
    for (const acks of allAcks) acks.admitBefore(read.invoke_ns, wal);

    let missed = 0;
    let oldestAck = Number.POSITIVE_INFINITY;
    let oldestId = 0;
    let oldestWriter = "";
    const dropsFrom = non_monotonic.length;
    const heads = read.heads;
    for (const writer in heads) {
      const head = heads[writer];
      // Only writers the read asked about are judged: an absent key says nothing.
      if (head === undefined) continue;

      const acks = ackedBy.get(writer);
      if (acks !== undefined && acks.admitted > 0) {
        // Missed: acknowledged before this read began, with an id above its head. A write acked
        // on an old primary and lost, below a head the writer reached later on the new one, is
        // not missed here: that hole is the lost-writes checker's finding, not staleness.
        const k = head === null ? 0 : acks.rankAbove(head);
        const count = acks.admittedFrom(k);
        if (count > 0) {
          missed += count;
          // The earliest ack among ranks ≥ k was admitted, since one of them was.
          const j = acks.earliestFrom[k] as number;
          const ackNs = acks.ack_ns[j] as number;
          const id = acks.ids[j] as number;
          if (ackNs < oldestAck || (ackNs === oldestAck && id < oldestId)) {
            oldestAck = ackNs;
            oldestId = id;
            oldestWriter = writer;
          }
        }
      }

      if (head !== null && present !== null && !present.has(head))
        lostCandidates.push({ read, writer, id: head, path });

      const high = state.high.get(writer);
      if (head !== null && (high === undefined || head > high.id)) {
        if (high === undefined) {
          state.high.set(writer, { id: head, seen_ns: read.complete_ns, node: read.node, armed: true });
        } else {
          high.id = head;
          high.seen_ns = read.complete_ns;
          high.node = read.node;
          high.armed = true;
        }
      } else if (
        high?.armed &&
        (head === null || head < high.id) &&
        // Only a read that began after the one that saw the high is later in real time.
        read.invoke_ns >= high.seen_ns
      ) {
        high.armed = false;
        non_monotonic.push({
          reader: read.reader,
          group: read.group,
          target: read.target,
          writer,
          id: high.id,
          seen_ns: high.seen_ns,
          later_invoke_ns: read.invoke_ns,
          later_head: head,
          node_before: high.node,
          node_after: read.node,
        });
      }
    }
    const drops = non_monotonic.length - dropsFrom;
    if (drops > 1) {
      const ofThisRead = non_monotonic.splice(dropsFrom).sort((a, b) => byName(a.writer, b.writer));
      for (const drop of ofThisRead) non_monotonic.push(drop);
    }
    path.non_monotonic_reads += drops;

    const staleness = missed > 0 ? nsToSeconds(read.invoke_ns - oldestAck) : 0;
    if (missed > 0) {
      stale.push({
        ...offending(read),
        missed_id: oldestId,
        writer: oldestWriter,
        missed_ack_ns: oldestAck,
        staleness_s: staleness,
        missed,
      });
      path.stale_reads += 1;
      path.max_staleness_s = maxOrNull(path.max_staleness_s, staleness);
      maxStaleness = maxOrNull(maxStaleness, staleness);
    }

    if (read.target !== "replica") continue;
    replicaStaleness = maxOrNull(replicaStaleness, staleness);
    if (read.lsn === null || wal === null) continue;
    const applied = tryLsn(read.lsn);
    if (applied === null) {
      badReadLsn.add(`${read.reader} at ${formatInstant(read.invoke_ns)}: ${JSON.stringify(read.lsn)}`);
      continue;
    }
    // Acks of another timeline are not WAL this standby could replay; unknown timeline: all of them.
    const acked = read.timeline === null ? wal.any : (wal.onTimeline.get(read.timeline) ?? null);
    const lag = acked === null ? 0 : Math.max(0, lsnDiff(acked, applied));
    path.max_lag_bytes = maxOrNull(path.max_lag_bytes, lag);
    replicaLag = maxOrNull(replicaLag, lag);
  }

  // Who wrote each id seen lost, in one pass over the history (the first op of an id counts).
  const wanted = new Set(lostCandidates.map((c) => c.id));
  const writerOf = new Map<number, WriteOperation>();
  if (wanted.size > 0)
    for (const op of writes) if (wanted.has(op.id) && !writerOf.has(op.id)) writerOf.set(op.id, op);
  const lost_data: LostDataRead[] = [];
  // A read that saw several lost ids (one per writer) is one read of lost data.
  let counted: ReadOperation | undefined;
  for (const { read, writer, id, path } of lostCandidates) {
    const op = writerOf.get(id);
    if (op === undefined) {
      unwritten.add(`${read.reader} saw ${id} of ${writer}`);
      continue;
    }
    if (op.writer !== writer)
      otherWriter.add(`${read.reader} saw ${id} under ${writer}, written by ${op.writer}`);
    lost_data.push({
      ...offending(read),
      id,
      writer,
      write_outcome: op.outcome,
    });
    if (counted !== read) path.lost_data_reads += 1;
    counted = read;
  }

  for (const [tally, what] of [
    [outOfOrder, "writer ids out of time order, stale reads judged by id regardless"],
    [badWriteLsn, "malformed lsn on acknowledged writes, left out of replica lag"],
    [badReadLsn, "malformed lsn on replica reads, left out of replica lag"],
    [unwritten, "reads saw ids no write in the history wrote"],
    [otherWriter, "reads saw ids under another writer than the one that wrote them"],
    [
      overlapping,
      "readers with overlapping reads, not sequential; only reads after a completed one compared",
    ],
  ] as const) {
    const line = tally.line(what);
    if (line !== null) problems.push(line);
  }

  // Only replica reads ever set max_lag_bytes, so a primary path keeps null.
  const paths = [...pathsByGroup.values()]
    .flatMap((byTarget) => [...byTarget.values()])
    .sort((a, b) => byName(a.path, b.path));

  return {
    reads: reads.length,
    ok_reads: okReads,
    stale,
    lost_data,
    non_monotonic,
    max_staleness_s: maxStaleness,
    replica_staleness_s: replicaStaleness,
    replica_lag_bytes: replicaLag,
    paths,
    problems,
  };
}

/** How many reads the findings come from: one read can see several lost ids, one per writer. */
export function distinctReads(findings: readonly { reader: string; invoke_ns: number }[]): number {
  return new Set(findings.map((f) => `${f.reader}\u0000${f.invoke_ns}`)).size;
}
