/**
 * A run that ends with more than one writable node has diverged: each side holds acknowledged
 * writes the other lacks, and which side an application keeps is not pgchaos's to choose. Both are
 * judged: for each, the acknowledged writes missing from it, by id and by writer group.
 */

import type { Divergence } from "../model/figures.ts";
import type { WriteOperation } from "../model/history.ts";
import type { RunRecord } from "../model/record.ts";
import { formatCount } from "./units.ts";

/** null unless at least two nodes were writable at the end. */
export function checkDivergence(
  history: readonly WriteOperation[],
  final: RunRecord["final"],
): Divergence | null {
  // The HA manager's primary is read even when it is not writable itself: only writable sides count.
  const writable = (member: string) => final.nodes.some((n) => n.member === member && n.role === "primary");
  const sides = (final.sides ?? []).filter((side) => writable(side.member));
  if (sides.length < 2) return null;
  const acknowledged = history.filter((op) => op.outcome === "ok");
  const ordered = [...sides].sort(
    (a, b) => Number(b.member === final.primary) - Number(a.member === final.primary),
  );
  return {
    members: ordered.map((side) => side.member),
    sides: ordered.map((side) => {
      const node = final.nodes.find((n) => n.member === side.member);
      const present = side.ids === null ? null : new Set(side.ids);
      const missing = present === null ? null : acknowledged.filter((op) => !present.has(op.id));
      const byGroup: Record<string, number> = {};
      for (const op of missing ?? []) byGroup[op.group] = (byGroup[op.group] ?? 0) + 1;
      return {
        member: side.member,
        ha_primary: side.member === final.primary,
        timeline: node?.timeline ?? null,
        lsn: node?.lsn ?? null,
        missing_ids: missing === null ? null : [...new Set(missing.map((op) => op.id))].sort((a, b) => a - b),
        missing_by_group: byGroup,
      };
    }),
  };
}

/** "n1 (timeline 1) lacks 7,830 acknowledged writes; n2 (timeline 2, the HA manager's primary) lacks 7,233". */
export function describeDivergence(divergence: Divergence): string {
  const parts = divergence.sides.map((side) => {
    const where = [
      side.timeline === null ? null : `timeline ${side.timeline}`,
      side.ha_primary ? "the HA manager's primary" : null,
    ].filter((part): part is string => part !== null);
    const lacks =
      side.missing_ids === null
        ? "its ledger could not be read"
        : `lacks ${formatCount(side.missing_ids.length)} acknowledged writes`;
    return `${side.member}${where.length > 0 ? ` (${where.join(", ")})` : ""} ${lacks}`;
  });
  return `${divergence.members.join(" and ")} were both writable at the end: ${parts.join("; ")}`;
}
