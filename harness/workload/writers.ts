import type { RunClock } from "../common/clock.ts";
import type { MicroOp, WriteOperation } from "../model/history.ts";
import type { WriteKind } from "../model/scenario.ts";
import { Cadence } from "./cadence.ts";
import { classifyWriteError } from "./classify.ts";
import {
  type ConnectOptions,
  type Connection,
  type Route,
  type Statement,
  type TextRow,
  connect,
} from "./connection.ts";
import { type KeyPool, TXN, completedTxn, isolationSetup, txnValues } from "./list-append.ts";

const INSERT: Statement = {
  name: "pgchaos-insert",
  text:
    "insert into pgchaos_ledger (id, writer) values ($1, $2) returning pg_current_wal_insert_lsn()::text as lsn, " +
    "pg_walfile_name(pg_current_wal_insert_lsn()) as walfile, host(inet_server_addr()) as server",
};

export interface WriterContext {
  clock: RunClock;
  connect: Omit<ConnectOptions, "applicationName" | "setup">;
  write: WriteKind;
  /** Hands out ledger ids: unique across the run's writers (helpers get their own range). */
  nextId: () => number;
  /** The keys list-append transactions touch, shared by the process's writers; null for the ledger. */
  keys: KeyPool | null;
  record: (operation: WriteOperation) => void;
}

/**
 * One writer: INSERTs unique ids (or runs transactions that do) and records every attempt. It keeps a
 * connection while it works; after any error it reconnects the way its route says (read-write).
 */
export async function writerLoop(
  context: WriterContext,
  group: string,
  writer: string,
  route: Route,
  rate: number,
): Promise<void> {
  const { clock, write } = context;
  const options: ConnectOptions = {
    ...context.connect,
    applicationName: "pgchaos-writer",
    setup: write.kind === "list-append" ? isolationSetup(write.isolation) : undefined,
  };
  const { keys } = context;
  // Never bursts to catch up after a stall: a real client would not either.
  const cadence = new Cadence(rate > 0 ? 1000 / rate : 0);
  let connection: Connection | undefined;
  let lastMember: string | undefined;
  while (options.running()) {
    const id = context.nextId();
    const txn = keys?.transaction(id);
    const invoke_ns = clock.nowNs();
    if (connection?.broken) {
      connection.close();
      connection = undefined;
    }
    connection ??= await connect(route, options, lastMember);
    const finish = (outcome: Outcome) =>
      context.record({
        id,
        group,
        writer,
        invoke_ns,
        complete_ns: clock.nowNs(),
        ...outcome,
        ...(txn && !outcome.txn ? { txn } : {}),
      });
    if (!connection) {
      finish(notWritten("fail", null, "no writable node reachable"));
    } else {
      lastMember = connection.member;
      try {
        const row = txn
          ? await connection.run(TXN, txnValues(id, writer, txn))
          : await connection.run(INSERT, [id, writer]);
        finish(acknowledged(row, connection.member, context.connect.memberAt, txn));
      } catch (error) {
        const outcome = classifyWriteError(error);
        finish(notWritten(outcome, connection.member, (error as Error).message));
        // A certain failure on a read-only node also means this node is no longer the primary.
        connection.close();
        connection = undefined;
      }
    }
    await cadence.next();
  }
  connection?.close();
}

type Outcome = Omit<WriteOperation, "id" | "group" | "writer" | "invoke_ns" | "complete_ns">;

function acknowledged(
  row: TextRow | undefined,
  member: string,
  memberAt: (address: string) => string | undefined,
  txn: MicroOp[] | undefined,
): Outcome {
  const walfile = row?.walfile;
  return {
    outcome: "ok",
    node: (row?.server && memberAt(row.server)) || member,
    timeline: walfile ? Number.parseInt(walfile.slice(0, 8), 16) : null,
    lsn: row?.lsn ?? null,
    error: null,
    ...(txn ? { txn: completedTxn(txn, row) } : {}),
  };
}

function notWritten(outcome: WriteOperation["outcome"], node: string | null, error: string): Outcome {
  return { outcome, node, timeline: null, lsn: null, error };
}
