/**
 * The operation history, Jepsen-style: every write the workload attempted, with what the client
 * actually learned about it. A checker never guesses an `unknown` outcome.
 */

/** ok: the server acknowledged the commit. fail: it certainly did not commit. unknown: it may have. */
export type Outcome = "ok" | "fail" | "unknown";

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
}
