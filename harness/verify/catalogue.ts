/**
 * The one catalogue of figures: what each is called, what it is measured in, what it means and
 * how it reads. Every reporter and every `expect:` key takes its wording from here, so a figure
 * is described once. It lives in verify (not report) because expectations describe themselves
 * with it, and verify must not import report.
 */

import type { Figures } from "./figures.ts";
import { formatBytes, formatCount, formatSeconds } from "./units.ts";

/**
 * The figures that are one value each. A scalar figure added to Figures without an entry here is
 * a compile error, so none goes unlabelled; per-group figures reuse their run-wide namesakes.
 */
export type ScalarFigure = {
  [K in keyof Figures]: Figures[K] extends number | boolean | null ? K : never;
}[keyof Figures];

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
    format: formatCount,
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
    help: "Acknowledged WAL on an old timeline beyond the point where the promoted timeline forked off.",
    format: formatBytes,
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
    help: "Whether two members accepted writes, or were sampled writable, at overlapping times.",
    format: yesNo,
  },
  split_brain_window_s: {
    label: "Split-brain window",
    short: "split-brain window",
    unit: "seconds",
    help: "Longest time two members accepted writes, or were sampled writable, at once.",
    format: seconds,
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
