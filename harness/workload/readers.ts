import type { RunClock } from "../common/clock.ts";
import type { ReadOperation, ReadTarget } from "../model/history.ts";
import { Cadence } from "./cadence.ts";
import { classifyWriteError } from "./classify.ts";
import { type ConnectOptions, type Connection, type Route, type Statement, connect } from "./connection.ts";

/**
 * One statement, so one snapshot: each writer's highest id (an index scan each), and where the
 * answering node stood — replay position on a standby, WAL position and timeline on a primary.
 * It names no system catalog or view (pg_stat_get_wal_receiver() is what the pg_stat_wal_receiver
 * view selects, with no row when no receiver runs: the same NULL here), since Pgpool never
 * load-balances a SELECT that names one; each function it calls is in READ_FUNCTIONS.
 */
export const READ: Statement = {
  name: "pgchaos-read",
  text:
    "select (select json_object_agg(w, (select max(id) from pgchaos_ledger l where l.writer = w)) from unnest($1::text[]) w)::text as heads, " +
    "pg_is_in_recovery()::text as recovery, " +
    "(case when pg_is_in_recovery() then pg_last_wal_replay_lsn() else pg_current_wal_lsn() end)::text as lsn, " +
    "case when pg_is_in_recovery() then (select received_tli::text from pg_stat_get_wal_receiver()) " +
    "else ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int::text end as timeline, " +
    "host(inet_server_addr()) as server",
};

/**
 * Every function READ calls, Pgpool's read_only_function_list (harness/entrypoints/pgpool.ts): with
 * both its function lists empty, Pgpool 4.3 sends a SELECT calling a VOLATILE function
 * (pg_is_in_recovery, the WAL positions) to the primary.
 */
export const READ_FUNCTIONS: readonly string[] = [
  "json_object_agg",
  "max",
  "unnest",
  "pg_is_in_recovery",
  "pg_last_wal_replay_lsn",
  "pg_current_wal_lsn",
  "pg_stat_get_wal_receiver",
  "substr",
  "pg_walfile_name",
  "host",
  "inet_server_addr",
];

export interface ReaderContext {
  clock: RunClock;
  connect: Omit<ConnectOptions, "applicationName" | "setup">;
  /** Every writer of the run: a read asks each one's highest id. */
  writers: readonly string[];
  record: (read: ReadOperation) => void;
}

/** A text[] literal: writer names are quoted, since they hold a slash. */
function textArray(items: readonly string[]): string {
  return `{${items.map((item) => `"${item.replace(/["\\]/g, "\\$&")}"`).join(",")}}`;
}

/**
 * One reader: sequential reads of the ledger through its route, each one recorded. It keeps its
 * connection while it answers, as an application's pool would, wherever that node now stands.
 */
export async function readerLoop(
  context: ReaderContext,
  group: string,
  target: ReadTarget,
  reader: string,
  route: Route,
  rate: number,
): Promise<void> {
  const { clock } = context;
  const options: ConnectOptions = { ...context.connect, applicationName: "pgchaos-reader" };
  const writers = textArray(context.writers);
  const cadence = new Cadence(rate > 0 ? 1000 / rate : 0);
  let connection: Connection | undefined;
  let lastMember: string | undefined;
  while (options.running()) {
    const invoke_ns = clock.nowNs();
    if (connection?.broken) {
      connection.close();
      connection = undefined;
    }
    connection ??= await connect(route, options, lastMember);
    const base = { group, target, reader, invoke_ns };
    if (!connection) {
      context.record({
        ...base,
        complete_ns: clock.nowNs(),
        ...unanswered("fail", null, "no node reachable"),
      });
    } else {
      lastMember = connection.member;
      try {
        const row = await connection.run(READ, [writers]);
        context.record({
          ...base,
          complete_ns: clock.nowNs(),
          outcome: "ok",
          node: (row?.server && context.connect.memberAt(row.server)) || connection.member,
          in_recovery: row?.recovery === undefined || row.recovery === null ? null : row.recovery === "true",
          timeline: row?.timeline ? Number(row.timeline) : null,
          lsn: row?.lsn ?? null,
          heads: JSON.parse(row?.heads ?? "{}") as Record<string, number | null>,
          error: null,
        });
      } catch (error) {
        // Same classes as a write: unknown says no answer came, fail that the server refused.
        const outcome = classifyWriteError(error);
        context.record({
          ...base,
          complete_ns: clock.nowNs(),
          ...unanswered(outcome, connection.member, (error as Error).message),
        });
        connection.close();
        connection = undefined;
      }
    }
    await cadence.next();
  }
  connection?.close();
}

function unanswered(outcome: ReadOperation["outcome"], node: string | null, error: string) {
  return { outcome, node, in_recovery: null, timeline: null, lsn: null, heads: {}, error };
}
