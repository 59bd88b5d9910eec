import { Random } from "../common/random.ts";
import type { MicroOp, WriteOperation } from "../model/history.ts";
import { APPENDS_PER_KEY, KeyPool } from "../workload/list-append.ts";

/**
 * A serializable list-append history of `n` transactions for the bench: the workload's own key pool
 * plays the transactions one at a time against an in-memory store, so every read is exact and the
 * history has no anomaly (the checker must say so, at scale).
 */
export function syntheticListAppendHistory(n: number, seed = 1): WriteOperation[] {
  const random = new Random(seed);
  const keys = new KeyPool(10, APPENDS_PER_KEY, 0, random);
  const lists = new Map<number, number[]>();
  const history: WriteOperation[] = [];
  for (let id = 1; id <= n; id++) {
    const ok = random.next() < 0.9;
    const txn: MicroOp[] = keys.transaction(id).map((op) => {
      if (!ok) return op;
      const list = lists.get(op.key) ?? [];
      if (op.f === "append") {
        lists.set(op.key, [...list, op.value]);
        return op;
      }
      return { ...op, value: list };
    });
    const at = id * 1_000_000;
    history.push({
      id,
      group: "direct",
      writer: `direct/w${(id % 8) + 1}`,
      invoke_ns: at,
      complete_ns: at + 500_000,
      outcome: ok ? "ok" : "fail",
      node: "n1",
      timeline: 1,
      lsn: null,
      error: ok ? null : "could not serialize access",
      txn,
    });
  }
  return history;
}
