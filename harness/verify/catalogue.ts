/**
 * The one catalogue of figures: what each is called, what it is measured in, what it means and
 * how it reads. Every reporter and every `expect:` key takes its wording from here, so a figure
 * is described once. It lives in verify (not report) because expectations describe themselves
 * with it, and verify must not import report.
 */

import type { Figures, ScalarFigureKey } from "../model/figures.ts";
import { formatBytes, formatCount, formatSeconds } from "./units.ts";

/**
 * The figures that are one value each. A scalar figure added to Figures without an entry here is
 * a compile error, so none goes unlabelled; per-group figures reuse their run-wide namesakes.
 */
export type ScalarFigure = ScalarFigureKey;

export type FigureUnit = "seconds" | "count" | "bytes" | "boolean";

export interface FigureSpec<Value> {
  /** As a card title or table row: "Max write gap". */
  label: string;
  /** Inside a sentence or as a narrow column head: "max write gap". */
  short: string;
  unit: FigureUnit;
  /** One sentence: what the figure measures and how; shown on hover and in the scenario schema. */
  help: string;
  /** The value as every reporter shows it: "5.50 s", "1,234", "368 B", "yes". */
  format: (value: Value) => string;
}

const seconds = (value: number | null): string => formatSeconds(value);
/** An unmeasured figure is "—" in every reporter (with its reason beside it), never a zero. */
const count = (value: number | null): string => (value === null ? "—" : formatCount(value));
const bytes = (value: number | null): string => (value === null ? "—" : formatBytes(value));
const yesNo = (value: boolean): string => (value ? "yes" : "no");

export const FIGURES: { readonly [K in ScalarFigure]: FigureSpec<Figures[K]> } = {
  rto_s: {
    label: "RTO",
    short: "RTO",
    unit: "seconds",
    help: "Worst time writes were impossible after a fault: from the later of the fault and the last acknowledgement before the first failed or unknown write after it, to the first acknowledgement of a write invoked after that disruption.",
    format: seconds,
  },
  max_write_gap_s: {
    label: "Max write gap",
    short: "max write gap",
    unit: "seconds",
    help: "Longest silence between two consecutive acknowledged writes while the workload ran.",
    format: seconds,
  },
  write_blocked_s: {
    label: "Write blocked",
    short: "write blocked",
    unit: "seconds",
    help: "Longest time one write was in flight without an answer, whatever its outcome (e.g. waiting for a crashed synchronous standby).",
    format: seconds,
  },
  acknowledged_writes: {
    label: "Acknowledged writes",
    short: "acknowledged",
    unit: "count",
    help: "Writes the cluster confirmed as committed.",
    format: formatCount,
  },
  failed_writes: {
    label: "Failed writes",
    short: "failed",
    unit: "count",
    help: "Writes the cluster refused: they certainly did not commit.",
    format: formatCount,
  },
  lost_writes: {
    label: "Lost writes",
    short: "lost",
    unit: "count",
    help: "Acknowledged writes absent from the final primary: the durability promise was broken.",
    format: count,
  },
  unknown_writes: {
    label: "Unknown writes",
    short: "unknown",
    unit: "count",
    help: "Writes whose outcome the client could not know (the connection broke mid-commit).",
    format: formatCount,
  },
  wal_loss_bytes: {
    label: "WAL loss",
    short: "WAL loss",
    unit: "bytes",
    help: "Acknowledged WAL on a timeline the cluster did not keep: an old timeline past the point where the promoted one forked off (from PostgreSQL's timeline history), or a promoted timeline the final primary does not descend from. Unknown when a fork point or an acknowledged LSN is.",
    format: bytes,
  },
  promotions: {
    label: "Promotions",
    short: "promotions",
    unit: "count",
    help: "Promotions to a new timeline.",
    format: formatCount,
  },
  split_brain: {
    label: "Split-brain",
    short: "split-brain",
    unit: "boolean",
    help: "Whether two members acknowledged writes at overlapping times: the histories diverged, so one side's writes are at risk.",
    format: yesNo,
  },
  diverged: {
    label: "Diverged",
    short: "diverged",
    unit: "boolean",
    help: "Whether more than one node was writable at the end: each side holds acknowledged writes the other lacks. Fails the verdict unless the scenario expects it (diverged: true).",
    format: yesNo,
  },
  split_brain_window_s: {
    label: "Split-brain window",
    short: "split-brain window",
    unit: "seconds",
    help: "Longest time two members acknowledged writes at once.",
    format: seconds,
  },
  dual_primary_s: {
    label: "Dual primary",
    short: "dual primary",
    unit: "seconds",
    help: "Total time two members were sampled writable (pg_is_in_recovery() = false) at once: clients could be routed to either, though writes to one may only block.",
    format: seconds,
  },
  reads: {
    label: "Reads",
    short: "reads",
    unit: "count",
    help: "Reads of the ledger that were answered; each records how far it saw every writer's writes.",
    format: formatCount,
  },
  stale_reads: {
    label: "Stale reads",
    short: "stale reads",
    unit: "count",
    help: "Reads that missed a write acknowledged before they began (real-time order).",
    format: count,
  },
  max_staleness_s: {
    label: "Max staleness",
    short: "max staleness",
    unit: "seconds",
    help: "Worst stale read: from the acknowledgement of the oldest write it missed to the read.",
    format: seconds,
  },
  lost_data_reads: {
    label: "Reads of lost data",
    short: "reads of lost data",
    unit: "count",
    help: "Reads that saw a write missing at the end: an acknowledged write later lost, or an unacknowledged commit that was visible and then vanished.",
    format: count,
  },
  non_monotonic_reads: {
    label: "Non-monotonic reads",
    short: "non-monotonic reads",
    unit: "count",
    help: "Times a reader no longer saw a write it had already seen.",
    format: count,
  },
  replica_staleness_s: {
    label: "Replica staleness",
    short: "replica staleness",
    unit: "seconds",
    help: "Worst time a read on the read-only path was behind the acknowledged writes; none without replica readers.",
    format: seconds,
  },
  replica_lag_bytes: {
    label: "Replica lag",
    short: "replica lag",
    unit: "bytes",
    help: "Worst WAL distance between a replica read's replay position and the latest acknowledged write before it.",
    format: (value) => (value === null ? "—" : formatBytes(value)),
  },
  transactions: {
    label: "Transactions",
    short: "transactions",
    unit: "count",
    help: "Committed list-append transactions the checker read; none for the ledger workload.",
    format: count,
  },
  txn_anomalies: {
    label: "Transaction anomalies",
    short: "txn anomalies",
    unit: "count",
    help: "Anomalies inferred from the list-append history (G0, G1a, G1b, G1c, G-single, G2-item, incompatible orders, duplicates, internal); none for the ledger workload.",
    format: count,
  },
  repoint_delay_s: {
    label: "Re-pointing delay",
    short: "re-pointing delay",
    unit: "seconds",
    help: "From a promotion to the name (dns entry point) answering the promoted member: the poller's wait; resolvers may keep the old answer for its TTL after that. Worst over promotions; none without one.",
    format: seconds,
  },
  stale_name_writes: {
    label: "Stale-name writes",
    short: "stale-name writes",
    unit: "count",
    help: "Writes by name acknowledged by a node that was no longer the primary when they were sent (the name, or a connection made through it, still led there): committed on a primary the cluster has left.",
    format: count,
  },
  stale_name_refused_writes: {
    label: "Stale-name refused",
    short: "stale-name refused",
    unit: "count",
    help: "Writes by name that reached a node that was no longer the primary and were refused (read-only) or left unanswered.",
    format: count,
  },
  old_primary_rejoin_s: {
    label: "Old-primary rejoin",
    short: "old-primary rejoin",
    unit: "seconds",
    help: "How long after the heal the former primary was first sampled as a replica on a newer timeline; none if it never was.",
    format: seconds,
  },
};

/** A figure as every reporter shows it; works on the run's figures and on a group's alike. */
export function formatFigure<K extends ScalarFigure>(key: K, figures: Pick<Figures, K>): string {
  return FIGURES[key].format(figures[key]);
}
