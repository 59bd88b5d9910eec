import type { Socket } from "node:net";
import pg from "pg";
import type { PostgresEndpoint } from "../model/cluster.ts";
import { LibpqConnection } from "./libpq.ts";
import "./scram.ts";

/**
 * Which node a connection may settle on, as libpq's target_session_attrs says it: read-write (the
 * writers' and primary readers' path), prefer-standby (a node in recovery, else any), or any (a
 * proxy that already chose the node).
 */
export type Acceptance = "read-write" | "prefer-standby" | "any";

/**
 * The harness's own routing over members (node-postgres): like libpq's target_session_attrs, but it
 * retries the last working member first and gives each a short connect timeout.
 */
export interface HostRoute {
  kind: "hosts";
  /** Members to try, in the order a multi-host connection string would list them (one, for a proxy). */
  targets: string[];
  endpoint: (member: string) => PostgresEndpoint;
  accept: Acceptance;
  /**
   * The application_name its sessions announce in place of the client's own: a proxy that routes
   * sessions by name (Pgpool's app_name_redirect_preference_list) needs it to choose a standby.
   */
  applicationName?: string;
}

/** A connection string handed to libpq itself, as an application would use it. */
export interface UriRoute {
  kind: "uri";
  conninfo: string;
}

export type Route = HostRoute | UriRoute;

/** A statement every client library can run: text in, text out (so libpq and node-postgres agree). */
export interface Statement {
  /** Prepared once per connection under this name (node-postgres; libpq sends it each time). */
  name: string;
  text: string;
}

export type TextRow = Record<string, string | null>;

/** An open connection, whichever client library holds it. */
export interface Connection {
  member: string;
  /** Set when the socket errors or closes while idle: the next request must not be sent on it. */
  broken: boolean;
  run(statement: Statement, values: (string | number)[]): Promise<TextRow | undefined>;
  close(): void;
}

export interface ConnectOptions {
  /** A request without an answer after this fails (the connection is then closed). */
  timeoutMs: number;
  /** The member an address belongs to, to name the node that really answered. */
  memberAt: (address: string) => string | undefined;
  /** Resolves when the workload stops: connects still waiting on libpq are abandoned then. */
  stopped: Promise<void>;
  /** False once the workload stops: the walk over members ends early. */
  running: () => boolean;
  applicationName: string;
  /** Run once on each new connection, e.g. a session's isolation level. */
  setup?: string;
}

const CONNECT_TIMEOUT_MS = 1000;

export function connect(
  route: Route,
  options: ConnectOptions,
  preferred: string | undefined,
): Promise<Connection | undefined> {
  return route.kind === "uri" ? connectUri(route, options) : connectHosts(route, options, preferred);
}

/**
 * libpq walks the string's hosts itself. It may block for as long as libpq waits (a string without
 * connect_timeout waits out TCP's own retries on a silent host): that is what its users see.
 * Only stop() stops waiting for it.
 */
async function connectUri(route: UriRoute, options: ConnectOptions): Promise<Connection | undefined> {
  const opened = await LibpqConnection.open(route.conninfo, options.stopped);
  if (!(opened instanceof LibpqConnection)) return undefined;
  const { timeoutMs } = options;
  try {
    if (options.setup) await opened.query(options.setup, [], timeoutMs);
    const [row] = await opened.query("select host(inet_server_addr()) as server", [], timeoutMs);
    const address = row?.server ?? "";
    return {
      member: options.memberAt(address) ?? address,
      broken: false,
      run: async (statement, values) => (await opened.query(statement.text, values, timeoutMs))[0],
      close: () => opened.close(),
    };
  } catch {
    opened.close();
    return undefined;
  }
}

/** Every column as text, as libpq hands them over: one parser for both client libraries. */
const TEXT_TYPES = { getTypeParser: () => (value: string) => value };

async function connectHosts(
  route: HostRoute,
  options: ConnectOptions,
  preferred: string | undefined,
): Promise<Connection | undefined> {
  const nodes = route.targets;
  // The member last reached is tried first only when it is one of the route's own targets (behind a
  // name it is not: the name must be resolved again).
  const order =
    preferred && nodes.includes(preferred) ? [preferred, ...nodes.filter((n) => n !== preferred)] : nodes;
  // prefer-standby: first a standby anywhere in the list, then whatever answers (libpq does the same).
  const passes: Acceptance[] = route.accept === "prefer-standby" ? ["prefer-standby", "any"] : [route.accept];
  for (const accept of passes) {
    for (const member of order) {
      if (!options.running()) return undefined;
      const connection = await openHost(route, member, accept, options);
      if (connection) return connection;
    }
  }
  return undefined;
}

async function openHost(
  route: HostRoute,
  member: string,
  accept: Acceptance,
  options: ConnectOptions,
): Promise<Connection | undefined> {
  const client = new pg.Client({
    ...route.endpoint(member),
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    query_timeout: options.timeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: 1000,
    application_name: route.applicationName ?? options.applicationName,
    types: TEXT_TYPES,
  });
  const connection: Connection = {
    member,
    broken: false,
    // Named: parsed once per connection, then only bound and executed (less work on both ends).
    run: async (statement, values) =>
      (await client.query<TextRow>({ name: statement.name, text: statement.text, values })).rows[0],
    close: () => {
      client.end().catch(() => {});
    },
  };
  const markBroken = () => {
    connection.broken = true;
  };
  client.on("error", markBroken);
  client.on("end", markBroken);
  // As libpq decides on PostgreSQL ≥ 14: from the in_hot_standby the server reports while the
  // connection starts, without a query (older servers are asked). While no node is writable every
  // attempt connects to every replica, so the round trip adds up.
  let hotStandby: boolean | undefined;
  client.connection.on("parameterStatus", (message: { parameterName: string; parameterValue: string }) => {
    if (message.parameterName === "in_hot_standby") hotStandby = message.parameterValue === "on";
  });
  try {
    await client.connect();
    // The node behind a name is the one the socket reached (a proxy's address names the proxy).
    const remote = (client.connection.stream as Socket).remoteAddress;
    const reached = remote ? options.memberAt(remote) : undefined;
    if (reached) connection.member = reached;
    const recovery =
      accept === "any"
        ? undefined
        : (hotStandby ??
          (await client.query<{ recovery: string }>("select pg_is_in_recovery()::text as recovery")).rows[0]
            ?.recovery === "true");
    const fits = accept === "any" || (accept === "read-write" ? recovery === false : recovery === true);
    if (fits && !connection.broken) {
      if (options.setup) await client.query(options.setup);
      return connection;
    }
  } catch {
    // not reachable or not ready: try the next node
  }
  await client.end().catch(() => {});
  return undefined;
}
