import type { Random } from "../common/random.ts";
import type { MicroOp } from "../model/history.ts";
import type { Isolation } from "../model/scenario.ts";
import type { Statement, TextRow } from "./connection.ts";

/** Run once per connection: every transaction of the session then runs at that level. */
export function isolationSetup(isolation: Isolation): string {
  return `set session characteristics as transaction isolation level ${isolation.replace("-", " ")}`;
}

/**
 * One transaction in one statement: pgchaos_txn (fixtures/sql/list-append.sql) inserts the ledger
 * row and plays the micro-ops in order, so the commit, the ledger id and the lists are one fact.
 */
export const TXN: Statement = {
  name: "pgchaos-txn",
  text:
    "select pgchaos_txn($1, $2, $3::jsonb) as reads, pg_current_wal_insert_lsn()::text as lsn, " +
    "pg_walfile_name(pg_current_wal_insert_lsn()) as walfile, host(inet_server_addr()) as server",
};

/** Appends a key takes before it is retired (Jepsen's max-writes-per-key is of the same order). */
export const APPENDS_PER_KEY = 32;

/** Most micro-ops per transaction; append values are `id × MAX_OPS + index`, so unique per run. */
const MAX_OPS = 4;

/**
 * The keys transactions touch: a few at a time, each retired after a number of appends (as Jepsen's
 * list-append generator does), so lists stay short and reads cheap however long the run.
 */
export class KeyPool {
  private readonly active: { key: number; appends: number }[];
  private nextKey: number;

  constructor(
    keys: number,
    private readonly appendsPerKey: number,
    firstKey: number,
    private readonly random: Random,
  ) {
    this.active = Array.from({ length: keys }, (_, i) => ({ key: firstKey + i, appends: 0 }));
    this.nextKey = firstKey + keys;
  }

  /** A transaction of 1–4 appends and reads over the active keys, for ledger row `id`. */
  transaction(id: number): MicroOp[] {
    const length = 1 + this.random.below(MAX_OPS);
    return Array.from({ length }, (_, index): MicroOp => {
      const slot = this.random.below(this.active.length);
      const entry = this.active[slot] as { key: number; appends: number };
      if (this.random.next() < 0.5) return { f: "r", key: entry.key, value: null };
      entry.appends += 1;
      const op: MicroOp = { f: "append", key: entry.key, value: id * MAX_OPS + index };
      if (entry.appends >= this.appendsPerKey) this.active[slot] = { key: this.nextKey++, appends: 0 };
      return op;
    });
  }
}

export function txnValues(id: number, writer: string, txn: readonly MicroOp[]): (string | number)[] {
  return [
    id,
    writer,
    JSON.stringify(txn.map((op) => ({ f: op.f, key: op.key, value: op.f === "append" ? op.value : null }))),
  ];
}

/** The transaction as committed: each read filled in, in order, with the list pgchaos_txn returned. */
export function completedTxn(txn: readonly MicroOp[], row: TextRow | undefined): MicroOp[] {
  const lists = JSON.parse(row?.reads ?? "[]") as number[][];
  let next = 0;
  return txn.map((op) => (op.f === "r" ? { ...op, value: lists[next++] ?? [] } : op));
}
