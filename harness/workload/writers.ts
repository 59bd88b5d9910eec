import pg from "pg";
import { type RunClock, sleep } from "../common/clock.ts";
import type { PostgresEndpoint } from "../topology/topology.ts";
import { classifyWriteError } from "./classify.ts";
import type { WriteOperation } from "./history.ts";

/** Writers that share a way into the cluster. */
export interface WriterGroup {
  name: string;
  writers: number;
  /** Writes per second per writer; 0 = as fast as possible. */
  rate: number;
  /** Members to try, in the order a multi-host connection string would list them (one, for a proxy). */
  targets: string[];
  endpoint: (member: string) => PostgresEndpoint;
}

export interface WorkloadOptions {
  groups: WriterGroup[];
  /** A write without an answer after this is abandoned and recorded as unknown. */
  timeoutMs: number;
  /** The member an address belongs to, to name the node that really served a write. */
  memberAt: (address: string) => string | undefined;
  clock: RunClock;
  /** First ledger id; helper processes get their own range so ids stay unique across the run. */
  firstId?: number;
  /** Called with every completed operation (a helper process streams them to the harness). */
  onOperation?: (operation: WriteOperation) => void;
}

const CONNECT_TIMEOUT_MS = 1000;
const INSERT =
  "insert into pgchaos_ledger (id, writer) values ($1, $2) returning pg_current_wal_insert_lsn()::text as lsn, " +
  "pg_walfile_name(pg_current_wal_insert_lsn()) as walfile, host(inet_server_addr()) as server";

interface Connection {
  member: string;
  client: pg.Client;
  /** Set when the socket errors or closes while idle: the next write must not be sent on it. */
  broken: boolean;
}

/**
 * Writers that INSERT unique ids and record every attempt. Routing behaves like libpq's
 * target_session_attrs=read-write over all nodes (node-postgres has no multi-host strings):
 * keep a connection while it works; after any error, reconnect to the first node that is not in recovery.
 */
export class Workload {
  readonly history: WriteOperation[] = [];
  private nextId: number;
  private running = false;
  private loops: Promise<void>[] = [];

  constructor(private readonly options: WorkloadOptions) {
    this.nextId = options.firstId ?? 1;
  }

  /** Adds an operation to the history: this workload's own, or one a helper process streamed in. */
  record(operation: WriteOperation): void {
    this.history.push(operation);
    this.options.onOperation?.(operation);
  }

  start(): void {
    this.running = true;
    this.loops = this.options.groups.flatMap((group) =>
      Array.from({ length: group.writers }, (_, i) => this.writerLoop(group, `${group.name}/w${i + 1}`)),
    );
  }

  /** Stops issuing writes and waits for the ones in flight to resolve (bounded by the write timeout). */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** The first recorded acknowledgement of a write invoked at or after `ns`: the data's own proof of writability. */
  firstAckSince(ns: number): WriteOperation | undefined {
    return this.history.find((op) => op.outcome === "ok" && op.invoke_ns >= ns);
  }

  private async writerLoop(group: WriterGroup, writer: string): Promise<void> {
    const { clock } = this.options;
    const { rate } = group;
    const intervalMs = rate > 0 ? 1000 / rate : 0;
    let connection: Connection | undefined;
    let lastMember: string | undefined;
    let nextAt = performance.now();
    while (this.running) {
      const id = this.nextId++;
      const invoke_ns = clock.nowNs();
      if (connection?.broken) {
        connection.client.end().catch(() => {});
        connection = undefined;
      }
      connection ??= await this.connectWritable(group, lastMember);
      if (!connection) {
        this.record(
          op(id, group.name, writer, invoke_ns, clock.nowNs(), "fail", null, "no writable node reachable"),
        );
      } else {
        lastMember = connection.member;
        connection = await this.write(connection, id, group.name, writer, invoke_ns);
      }
      nextAt += intervalMs;
      const wait = nextAt - performance.now();
      if (wait > 0) await sleep(wait);
      // Never burst to catch up after a stall: a real client would not either.
      else nextAt = performance.now();
    }
    await connection?.client.end().catch(() => {});
  }

  /** Returns the connection to keep using, or undefined when it must be replaced. */
  private async write(
    connection: Connection,
    id: number,
    group: string,
    writer: string,
    invoke_ns: number,
  ): Promise<Connection | undefined> {
    const { clock } = this.options;
    try {
      const result = await connection.client.query<{ lsn: string; walfile: string; server: string | null }>({
        text: INSERT,
        values: [id, writer],
      });
      const row = result.rows[0];
      const timeline = row ? Number.parseInt(row.walfile.slice(0, 8), 16) : null;
      this.record({
        id,
        group,
        writer,
        invoke_ns,
        complete_ns: clock.nowNs(),
        outcome: "ok",
        node: (row?.server && this.options.memberAt(row.server)) || connection.member,
        timeline,
        lsn: row?.lsn ?? null,
        error: null,
      });
      return connection;
    } catch (error) {
      const outcome = classifyWriteError(error);
      this.record(
        op(id, group, writer, invoke_ns, clock.nowNs(), outcome, connection.member, (error as Error).message),
      );
      // A certain failure on a read-only node also means this node is no longer the primary.
      connection.client.end().catch(() => {});
      return undefined;
    }
  }

  private async connectWritable(
    group: WriterGroup,
    preferred: string | undefined,
  ): Promise<Connection | undefined> {
    const nodes = group.targets;
    const order = preferred ? [preferred, ...nodes.filter((n) => n !== preferred)] : nodes;
    for (const member of order) {
      if (!this.running) return undefined;
      const client = new pg.Client({
        ...group.endpoint(member),
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
        query_timeout: this.options.timeoutMs,
        keepAlive: true,
        keepAliveInitialDelayMillis: 1000,
        application_name: "pgchaos-writer",
      });
      const connection: Connection = { member, client, broken: false };
      const markBroken = () => {
        connection.broken = true;
      };
      client.on("error", markBroken);
      client.on("end", markBroken);
      try {
        await client.connect();
        const result = await client.query<{ recovery: boolean }>("select pg_is_in_recovery() as recovery");
        if (result.rows[0]?.recovery === false && !connection.broken) return connection;
      } catch {
        // not reachable or not ready: try the next node
      }
      await client.end().catch(() => {});
    }
    return undefined;
  }
}

function op(
  id: number,
  group: string,
  writer: string,
  invoke_ns: number,
  complete_ns: number,
  outcome: WriteOperation["outcome"],
  node: string | null,
  error: string,
): WriteOperation {
  return { id, group, writer, invoke_ns, complete_ns, outcome, node, timeline: null, lsn: null, error };
}
