/**
 * Builders for read histories (times in seconds, as in test-helpers.ts), and a synthetic run of any
 * size with one failover for the bench: writers, primary and replica readers, and the data a
 * crashed primary took with it.
 */

import { Random } from "../common/random.ts";
import type { Outcome, ReadOperation, ReadTarget, WriteOperation } from "../model/history.ts";
import { formatLsn } from "./lsn.ts";
import { ns } from "./test-helpers.ts";

export interface WriteOptions {
  group?: string;
  node?: string | null;
  timeline?: number | null;
  lsn?: string | null;
}

/** An acknowledged write of `writer`. */
export function acked(
  writer: string,
  id: number,
  invokeS: number,
  completeS: number,
  options: WriteOptions = {},
): WriteOperation {
  return {
    id,
    group: options.group ?? "direct",
    writer,
    invoke_ns: ns(invokeS),
    complete_ns: ns(completeS),
    outcome: "ok",
    node: options.node === undefined ? "n1" : options.node,
    timeline: options.timeline === undefined ? 1 : options.timeline,
    lsn: options.lsn ?? null,
    error: null,
  };
}

/** A write of `writer` the client saw fail or got no answer for. */
export function unacked(
  outcome: "fail" | "unknown",
  writer: string,
  id: number,
  invokeS: number,
  completeS: number,
): WriteOperation {
  return {
    id,
    group: "direct",
    writer,
    invoke_ns: ns(invokeS),
    complete_ns: ns(completeS),
    outcome,
    node: "n1",
    timeline: null,
    lsn: null,
    error: outcome === "fail" ? "connection refused" : "connection reset during commit",
  };
}

export interface ReadOptions {
  group?: string;
  node?: string | null;
  timeline?: number | null;
  lsn?: string | null;
  outcome?: Outcome;
}

/** A read by `reader` through `target`; heads as the ledger query returns them. */
export function readOp(
  reader: string,
  target: ReadTarget,
  invokeS: number,
  completeS: number,
  heads: Record<string, number | null>,
  options: ReadOptions = {},
): ReadOperation {
  const outcome = options.outcome ?? "ok";
  return {
    group: options.group ?? "direct",
    target,
    reader,
    invoke_ns: ns(invokeS),
    complete_ns: ns(completeS),
    outcome,
    node: options.node === undefined ? (target === "primary" ? "n1" : "n2") : options.node,
    in_recovery: outcome === "ok" ? target === "replica" : null,
    timeline: options.timeline === undefined ? 1 : options.timeline,
    lsn: options.lsn ?? null,
    heads: outcome === "ok" ? heads : {},
    error: outcome === "ok" ? null : "connection refused",
  };
}

const MS = 1_000_000;
/** The workload starts this long after the run's clock does (cluster setup), as in a real run. */
const START_NS = 5_000 * MS;
const WRITERS = ["direct/w1", "direct/w2", "direct/w3", "direct/w4"];
const READERS: ReadonlyArray<[string, ReadTarget]> = [
  ["direct/primary/r1", "primary"],
  ["direct/primary/r2", "primary"],
  ["direct/replica/r1", "replica"],
  ["direct/replica/r2", "replica"],
];
/** The standby applies this far behind its primary; the crashed primary's last such span is lost. */
const REPLICATION_LAG_NS = 5 * MS;
const FIRST_LSN = 0x3000000;

/** What became of a synthetic write. */
const Fate = { AckedOld: 0, AckedNew: 1, Unknown: 2, Failed: 3 } as const;
type Fate = (typeof Fate)[keyof typeof Fate];

/**
 * How far behind its primary a standby applies WAL at an instant: 5–20 ms, drifting slowly enough
 * (well under 1 ns per ns) that what it has applied only moves forward, as a real standby's does.
 */
function standbyDelayNs(atNs: number): number {
  return Math.round((12.5 + 7.5 * Math.sin(atNs / (1_000 * MS))) * MS);
}

function lastAtMost(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

function earliest(times: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < times.length; i++) if ((times[i] as number) < (times[best] as number)) best = i;
  return best;
}

/** What one node's ledger held, in commit order: per writer (commit, id), and the WAL position. */
class View {
  private readonly commit_ns: number[] = [];
  private readonly lsn: number[] = [];
  private readonly writerCommit_ns: number[][] = WRITERS.map(() => []);
  private readonly writerIds: number[][] = WRITERS.map(() => []);

  add(writer: number, id: number, commitNs: number, lsn: number): void {
    this.commit_ns.push(commitNs);
    this.lsn.push(lsn);
    this.writerCommit_ns[writer]?.push(commitNs);
    this.writerIds[writer]?.push(id);
  }

  heads(atNs: number): Record<string, number | null> {
    const heads: Record<string, number | null> = {};
    for (const [w, writer] of WRITERS.entries()) {
      const i = lastAtMost(this.writerCommit_ns[w] as number[], atNs);
      heads[writer] = i < 0 ? null : ((this.writerIds[w] as number[])[i] as number);
    }
    return heads;
  }

  lsnAt(atNs: number): string {
    const i = lastAtMost(this.commit_ns, atNs);
    return formatLsn(BigInt(i < 0 ? FIRST_LSN : (this.lsn[i] as number)));
  }
}

/**
 * n operations, half writes by 4 writers (1–3 ms each, 0.5–1.5 ms apart; a failed connect takes
 * 50–150 ms) and half reads by 4 sequential readers (2 on the primary, 2 on a standby 5–20 ms
 * behind, drifting). Halfway through, the primary n1 crashes; n2 is promoted (timeline 2) after an
 * outage of a tenth of the run (at most 8 s). What n1 committed in its last 5 ms never reached n2:
 * acknowledged writes lost, in-flight writes that committed unseen, the reads that saw them, and
 * primary readers going back in time once the writers are back on n2.
 * Operations come in invoke order, each object built once with its final fields, as a history
 * loaded from JSON would be (a checker's speed depends on that layout).
 */
export function syntheticReadHistory(n: number): {
  writes: WriteOperation[];
  reads: ReadOperation[];
  final: number[];
} {
  const random = new Random(1);
  const between = (lo: number, hi: number) => lo + random.next() * (hi - lo);
  const writeCount = Math.ceil(n / 2);
  const readCount = n - writeCount;
  const runNs = Math.max(1, Math.ceil(writeCount / WRITERS.length)) * 3 * MS;
  const crashNs = START_NS + Math.round(runNs / 2);
  const recoverNs = crashNs + Math.round(Math.min(8_000 * MS, runNs / 10));
  const unansweredUntilNs = Math.min(recoverNs, crashNs + 1_000 * MS);

  // Writes as columns first: WAL positions are only known once every commit is.
  const writerOf = new Uint8Array(writeCount);
  const invokeNs = new Float64Array(writeCount);
  const completeNs = new Float64Array(writeCount);
  const commitNs = new Float64Array(writeCount).fill(-1);
  const fate = new Uint8Array(writeCount);
  const nextInvoke = WRITERS.map((_, w) => START_NS + w * 0.2 * MS);
  for (let i = 0; i < writeCount; i++) {
    const w = earliest(nextInvoke);
    const invoke = Math.round(nextInvoke[w] as number);
    const latency = Math.round(between(1, 3) * MS);
    const commit = invoke + Math.round(latency * 0.8);
    writerOf[i] = w;
    invokeNs[i] = invoke;
    if (invoke >= crashNs && invoke < recoverNs) {
      // A writer waits out a connect timeout, so it is back a little after the readers are.
      fate[i] = Fate.Failed;
      completeNs[i] = invoke + Math.round(between(50, 150) * MS);
    } else if (invoke < crashNs && invoke + latency >= crashNs) {
      fate[i] = Fate.Unknown;
      completeNs[i] = unansweredUntilNs;
      if (commit < crashNs) commitNs[i] = commit;
    } else {
      fate[i] = invoke >= recoverNs ? Fate.AckedNew : Fate.AckedOld;
      completeNs[i] = invoke + latency;
      commitNs[i] = commit;
    }
    nextInvoke[w] = (completeNs[i] as number) + between(0.5, 1.5) * MS;
  }

  // WAL positions in commit order: timeline 1 from FIRST_LSN, timeline 2 from n2's fork point.
  const committed: number[] = [];
  for (let i = 0; i < writeCount; i++) if ((commitNs[i] as number) >= 0) committed.push(i);
  committed.sort((a, b) => (commitNs[a] as number) - (commitNs[b] as number));
  const lsn = new Float64Array(writeCount);
  const oldPrimary = new View();
  const survivor = new View();
  const survives = (i: number) =>
    fate[i] === Fate.AckedNew || (commitNs[i] as number) <= crashNs - REPLICATION_LAG_NS;
  let wal = FIRST_LSN;
  let fork = FIRST_LSN;
  for (const i of committed) {
    if (fate[i] === Fate.AckedNew) continue;
    wal += 160 + random.below(96);
    lsn[i] = wal;
    oldPrimary.add(writerOf[i] as number, i + 1, commitNs[i] as number, wal);
    if (survives(i)) {
      survivor.add(writerOf[i] as number, i + 1, commitNs[i] as number, wal);
      fork = wal;
    }
  }
  wal = fork + 0x100;
  for (const i of committed) {
    if (fate[i] !== Fate.AckedNew) continue;
    wal += 160 + random.below(96);
    lsn[i] = wal;
    survivor.add(writerOf[i] as number, i + 1, commitNs[i] as number, wal);
  }

  const writes: WriteOperation[] = [];
  const final: number[] = [];
  for (let i = 0; i < writeCount; i++) {
    const f = fate[i] as Fate;
    const acked = f === Fate.AckedOld || f === Fate.AckedNew;
    writes.push({
      id: i + 1,
      group: "direct",
      writer: WRITERS[writerOf[i] as number] as string,
      invoke_ns: invokeNs[i] as number,
      complete_ns: completeNs[i] as number,
      outcome: acked ? "ok" : f === Fate.Unknown ? "unknown" : "fail",
      node: f === Fate.AckedNew ? "n2" : f === Fate.Failed ? null : "n1",
      timeline: f === Fate.AckedOld ? 1 : f === Fate.AckedNew ? 2 : null,
      lsn: acked ? formatLsn(BigInt(lsn[i] as number)) : null,
      error:
        f === Fate.Unknown
          ? "connection reset during commit"
          : f === Fate.Failed
            ? "no writable node reachable"
            : null,
    });
    if ((commitNs[i] as number) >= 0 && survives(i)) final.push(i + 1);
  }

  // Readers take turns by next invoke, so reads come out in invoke order as well.
  const reads: ReadOperation[] = [];
  const cycleNs = runNs / Math.max(1, Math.ceil(readCount / READERS.length));
  const nextRead = READERS.map((_, r) => START_NS + r * 0.3 * MS);
  for (let k = 0; k < readCount; k++) {
    const r = earliest(nextRead);
    const [reader, target] = READERS[r] as [string, ReadTarget];
    const invoke = Math.round(nextRead[r] as number);
    const latency = Math.round(between(0.5, 1.5) * MS);
    const snapshot = invoke + Math.round(latency / 2);
    let read: ReadOperation;
    if (target === "primary" && invoke + latency >= crashNs && invoke < recoverNs) {
      const unanswered = invoke < crashNs;
      read = {
        group: "direct",
        target,
        reader,
        invoke_ns: invoke,
        complete_ns: unanswered ? unansweredUntilNs : invoke + MS / 2,
        outcome: unanswered ? "unknown" : "fail",
        node: unanswered ? "n1" : null,
        in_recovery: null,
        timeline: null,
        lsn: null,
        heads: {},
        error: unanswered ? "timeout" : "no node reachable",
      };
    } else if (target === "primary") {
      const before = snapshot < crashNs;
      const view = before ? oldPrimary : survivor;
      read = {
        group: "direct",
        target,
        reader,
        invoke_ns: invoke,
        complete_ns: invoke + latency,
        outcome: "ok",
        node: before ? "n1" : "n2",
        in_recovery: false,
        timeline: before ? 1 : 2,
        lsn: view.lsnAt(snapshot),
        heads: view.heads(snapshot),
        error: null,
      };
    } else {
      // n2 serves the standby reads until it is promoted, n3 (following it) afterwards.
      const applied = snapshot - standbyDelayNs(snapshot);
      read = {
        group: "direct",
        target,
        reader,
        invoke_ns: invoke,
        complete_ns: invoke + latency,
        outcome: "ok",
        node: snapshot >= crashNs ? "n3" : "n2",
        in_recovery: true,
        timeline: snapshot >= recoverNs ? 2 : 1,
        lsn: survivor.lsnAt(applied),
        heads: survivor.heads(applied),
        error: null,
      };
    }
    reads.push(read);
    nextRead[r] = Math.max(read.complete_ns, invoke + cycleNs) + between(0, 0.2) * MS;
  }
  return { writes, reads, final };
}
