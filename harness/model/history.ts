/**
 * The operation history, Jepsen-style: every write and read the workload attempted, with what the
 * client actually learned about it. A checker never guesses an `unknown` outcome.
 */

/** ok: the server acknowledged the commit. fail: it certainly did not commit. unknown: it may have. */
export type Outcome = "ok" | "fail" | "unknown";

/**
 * One step of a list-append transaction (Elle's model): append a value to a key's list, or read the
 * whole list. Values are unique per run, so a list names the transactions that wrote it.
 */
export type MicroOp =
  | { f: "append"; key: number; value: number }
  | { f: "r"; key: number; value: number[] | null };

export interface WriteOperation {
  /** Unique ledger id written by this operation. */
  id: number;
  /** Writer group: "direct", an entry point ("haproxy", "pgpool") or a named placement group. */
  group: string;
  /** Writer that issued it, e.g. "direct/w1". */
  writer: string;
  /** Monotonic nanoseconds since the run started, when the request was sent. */
  invoke_ns: number;
  /** Monotonic nanoseconds since the run started, when the outcome became known. */
  complete_ns: number;
  outcome: Outcome;
  /**
   * Node that served the request (from inet_server_addr(), so also behind a proxy); before an
   * answer, the member it was sent to; null when no writable node could be reached at all.
   */
  node: string | null;
  /** Timeline of the node that acknowledged the write (ok only). */
  timeline: number | null;
  /** WAL insert position reported with the acknowledgement, e.g. "0/5030E50" (ok only). */
  lsn: string | null;
  /** Error text for fail / unknown. */
  error: string | null;
  /**
   * With `workload.kind: list-append`, the transaction that inserted this ledger row in the same
   * commit: its appends, and its reads with the lists they returned (null unless ok).
   */
  txn?: MicroOp[];
}

/** Which way a reader goes in: the writers' path (the primary) or the entry point's read-only path. */
export type ReadTarget = "primary" | "replica";

/**
 * One read of the ledger. A writer's ids grow over time (it has one write in flight at a time), so
 * the highest id of each writer a read returns says how far that read's view reached for it.
 */
export interface ReadOperation {
  /** Reader group: an entry point or a placed group, as for writes. */
  group: string;
  target: ReadTarget;
  /** Reader that issued it, e.g. "direct/replica/r1": its reads are sequential. */
  reader: string;
  invoke_ns: number;
  complete_ns: number;
  /** A read changes nothing: unknown only says no answer came in time; checkers use ok reads only. */
  outcome: Outcome;
  /** Node that answered (inet_server_addr()); before an answer, the member it was sent to. */
  node: string | null;
  /** Whether the answering node was in recovery (a standby) when it answered. */
  in_recovery: boolean | null;
  /** Timeline of the answering node: its WAL's on a primary, the one it receives on a standby. */
  timeline: number | null;
  /** pg_current_wal_lsn() on a primary, pg_last_wal_replay_lsn() on a standby (what it has applied). */
  lsn: string | null;
  /** Writer → the highest ledger id of that writer the read saw; null: none at all. Ok reads only. */
  heads: Record<string, number | null>;
  error: string | null;
}
