/** Figures per writer group: the downtime clients see depends on the path they take into the cluster. */

import type { GroupFigures } from "../model/figures.ts";
import type { WriteOperation } from "../model/history.ts";
import type { TimelineEvent } from "../model/timeline.ts";
import { maxWriteGap, rtoPerFault, worstRto } from "./rto.ts";

export function countOutcome(ops: readonly WriteOperation[], outcome: WriteOperation["outcome"]): number {
  return ops.filter((op) => op.outcome === outcome).length;
}

export function groupFigures(
  history: readonly WriteOperation[],
  timeline: readonly TimelineEvent[],
  /** null: the final state was not read, so no group's loss is known. */
  lostIds: readonly number[] | null,
): Record<string, GroupFigures> {
  const lost = lostIds === null ? null : new Set(lostIds);
  const byGroup = new Map<string, WriteOperation[]>();
  for (const op of history) {
    const ops = byGroup.get(op.group) ?? [];
    ops.push(op);
    byGroup.set(op.group, ops);
  }
  const figures: Record<string, GroupFigures> = {};
  for (const [group, ops] of [...byGroup].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const count = (outcome: WriteOperation["outcome"]) => countOutcome(ops, outcome);
    figures[group] = {
      rto_s: worstRto(rtoPerFault(ops, timeline)),
      max_write_gap_s: maxWriteGap(ops),
      acknowledged_writes: count("ok"),
      failed_writes: count("fail"),
      unknown_writes: count("unknown"),
      lost_writes: lost === null ? null : ops.filter((op) => op.outcome === "ok" && lost.has(op.id)).length,
    };
  }
  return figures;
}
