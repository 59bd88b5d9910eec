/** Acknowledged writes missing from the final primary, and what became of the unknown ones. */

import type { WriteOperation } from "../model/history.ts";

export interface LostWriteCheck {
  /** Acknowledged, yet absent from the final state: the durability promise was broken. null: not known. */
  lost_ids: number[] | null;
  /** Outcome unknown to the client; never counted as lost nor as acknowledged. */
  unknown_ids: number[];
  /** Unknown writes present at the end: they did commit. Informative only. */
  unknown_found_ids: number[];
  problems: string[];
}

function sortedUniqueIds(ops: readonly WriteOperation[]): number[] {
  return [...new Set(ops.map((op) => op.id))].sort((a, b) => a - b);
}

/** finalIds null means the final primary could not be read, so absence proves nothing. */
export function checkLostWrites(
  history: readonly WriteOperation[],
  finalIds: readonly number[] | null,
): LostWriteCheck {
  const unknownIds = sortedUniqueIds(history.filter((op) => op.outcome === "unknown"));
  if (finalIds === null) {
    return {
      lost_ids: null,
      unknown_ids: unknownIds,
      unknown_found_ids: [],
      problems: ["final state unreadable: lost writes unknown"],
    };
  }
  const present = new Set(finalIds);
  const lostIds = sortedUniqueIds(history.filter((op) => op.outcome === "ok" && !present.has(op.id)));
  // A "fail" that committed means the client misclassified an outcome; surface it, never hide it.
  const problems = sortedUniqueIds(history.filter((op) => op.outcome === "fail" && present.has(op.id))).map(
    (id) => `write ${id} failed but is present on the final primary`,
  );
  return {
    lost_ids: lostIds,
    unknown_ids: unknownIds,
    unknown_found_ids: unknownIds.filter((id) => present.has(id)),
    problems,
  };
}
