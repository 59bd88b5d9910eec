import pg from "pg";
import type { RunClock } from "../common/clock.ts";
import type { PostgresEndpoint } from "../topology/topology.ts";
import { Cadence } from "./cadence.ts";
import { classifyWriteError } from "./classify.ts";
import type { WriteOperation } from "./history.ts";
import { LibpqConnection } from "./libpq.ts";
import "./scram.ts";

/**
 * The harness's own routing over members (node-postgres): like libpq's target_session_attrs=read-write,
 * but it retries the last working member first and gives each a short connect timeout.
 */
export interface HostRoute {
  kind: "hosts";
  /** Members to try, in the order a multi-host connection string would list them (one, for a proxy). */
  targets: string[];
  endpoint: (member: string) => PostgresEndpoint;
}

/** A connection string handed to libpq itself, as an application would use it. */
export interface UriRoute {
  kind: "uri";
  conninfo: string;
}

/** Writers that share a way into the cluster. */
export interface WriterGroup {
  name: string;
  writers: number;
  /** Writes per second per writer; 0 = as fast as possible. */
  rate: number;
  route: HostRoute | UriRoute;
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

interface InsertRow {
  lsn: string;
  walfile: string;
  server: string | null;
}

/** A writer's open connection, whichever client library holds it. */
interface Connection {
  member: string;
  /** Set when the socket errors or closes while idle: the next write must not be sent on it. */
  broken: boolean;
  insert(id: number, writer: string): Promise<InsertRow | undefined>;
  close(): void;
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
  private markStopped: () => void = () => {};
  /** Resolves when stop() is called: connects still waiting on libpq are abandoned then. */
  private readonly stopped = new Promise<void>((resolve) => {
    this.markStopped = resolve;
  });
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
    this.markStopped();
    await Promise.all(this.loops);
  }

  /**
   * For each of this workload's own groups (one per entry point), its first acknowledged write
   * invoked at or after `ns`: the data's own proof of writability, path by path. Placed groups
   * (streamed in by helpers) are not paths: one beside an isolated primary may never recover.
   */
  acksOnEachPathSince(ns: number): { acks: Map<string, WriteOperation>; missing: string[] } {
    const acks = new Map<string, WriteOperation>();
    const paths = this.options.groups.map((group) => group.name);
    for (const op of this.history) {
      if (op.outcome === "ok" && op.invoke_ns >= ns && paths.includes(op.group) && !acks.has(op.group)) {
        acks.set(op.group, op);
      }
    }
    return { acks, missing: paths.filter((path) => !acks.has(path)) };
  }

  private async writerLoop(group: WriterGroup, writer: string): Promise<void> {
    const { clock } = this.options;
    const { rate } = group;
    // Never bursts to catch up after a stall: a real client would not either.
    const cadence = new Cadence(rate > 0 ? 1000 / rate : 0);
    let connection: Connection | undefined;
    let lastMember: string | undefined;
    while (this.running) {
      const id = this.nextId++;
      const invoke_ns = clock.nowNs();
      if (connection?.broken) {
        connection.close();
        connection = undefined;
      }
      connection ??=
        group.route.kind === "uri"
          ? await this.connectUri(group.route)
          : await this.connectWritable(group.route, lastMember);
      if (!connection) {
        this.record(
          op(id, group.name, writer, invoke_ns, clock.nowNs(), "fail", null, "no writable node reachable"),
        );
      } else {
        lastMember = connection.member;
        connection = await this.write(connection, id, group.name, writer, invoke_ns);
      }
      await cadence.next();
    }
    connection?.close();
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
      const row = await connection.insert(id, writer);
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
      connection.close();
      return undefined;
    }
  }

  /**
   * libpq walks the string's hosts itself. It may block for as long as libpq waits (a string without
   * connect_timeout waits out TCP's own retries on a silent host): that is what its users see.
   * Only stop() stops waiting for it.
   */
  private async connectUri(route: UriRoute): Promise<Connection | undefined> {
    const opened = await LibpqConnection.open(route.conninfo, this.stopped);
    if (!(opened instanceof LibpqConnection)) return undefined;
    const timeoutMs = this.options.timeoutMs;
    try {
      const [row] = await opened.query("select host(inet_server_addr()) as server", [], timeoutMs);
      const address = row?.server ?? "";
      const connection: Connection = {
        member: this.options.memberAt(address) ?? address,
        broken: false,
        insert: async (id, writer) => {
          const [inserted] = await opened.query(INSERT, [id, writer], timeoutMs);
          return inserted
            ? { lsn: inserted.lsn ?? "", walfile: inserted.walfile ?? "", server: inserted.server ?? null }
            : undefined;
        },
        close: () => opened.close(),
      };
      return connection;
    } catch {
      opened.close();
      return undefined;
    }
  }

  private async connectWritable(
    route: HostRoute,
    preferred: string | undefined,
  ): Promise<Connection | undefined> {
    const nodes = route.targets;
    const order = preferred ? [preferred, ...nodes.filter((n) => n !== preferred)] : nodes;
    for (const member of order) {
      if (!this.running) return undefined;
      const client = new pg.Client({
        ...route.endpoint(member),
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
        query_timeout: this.options.timeoutMs,
        keepAlive: true,
        keepAliveInitialDelayMillis: 1000,
        application_name: "pgchaos-writer",
      });
      const connection: Connection = {
        member,
        broken: false,
        // Named: parsed once per connection, then only bound and executed (less work on both ends).
        insert: async (id, writer) =>
          (await client.query<InsertRow>({ name: "pgchaos-insert", text: INSERT, values: [id, writer] }))
            .rows[0],
        close: () => {
          client.end().catch(() => {});
        },
      };
      const markBroken = () => {
        connection.broken = true;
      };
      client.on("error", markBroken);
      client.on("end", markBroken);
      // As libpq decides read-write on PostgreSQL ≥ 14: from the in_hot_standby the server reports
      // while the connection starts, without a query (older servers are asked). While no node is
      // writable every attempt connects to every replica, so the round trip adds up.
      let hotStandby: boolean | undefined;
      client.connection.on(
        "parameterStatus",
        (message: { parameterName: string; parameterValue: string }) => {
          if (message.parameterName === "in_hot_standby") hotStandby = message.parameterValue === "on";
        },
      );
      try {
        await client.connect();
        const recovery =
          hotStandby ??
          (await client.query<{ recovery: boolean }>("select pg_is_in_recovery() as recovery")).rows[0]
            ?.recovery;
        if (recovery === false && !connection.broken) return connection;
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
