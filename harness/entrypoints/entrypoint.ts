import type { StartedBackend } from "../backend/backend.ts";
import { POSTGRES_PORT } from "../topology/members.ts";
import type { PostgresEndpoint, Topology } from "../topology/topology.ts";

/**
 * How applications reach the cluster: the harness's own routing (direct), the cluster's multi-host
 * connection string through libpq (uri), or a proxy in its own namespace (haproxy, pgpool).
 */
export const ENTRYPOINTS = ["direct", "uri", "haproxy", "pgpool"] as const;
export type EntryPointKind = (typeof ENTRYPOINTS)[number];
/** Entry points that are a proxy process on a host of their own. */
export type ProxyKind = Exclude<EntryPointKind, "direct" | "uri">;

export function isProxy(kind: EntryPointKind): kind is ProxyKind {
  return kind !== "direct" && kind !== "uri";
}

/** HAProxy's read-only frontend. */
export const REPLICA_PORT = 5433;

/** Ports clients dial on a proxy's host: PostgreSQL's, and HAProxy's read-only frontend. */
export const PROXY_PORTS: { readonly [K in ProxyKind]: readonly number[] } = {
  haproxy: [POSTGRES_PORT, REPLICA_PORT],
  pgpool: [POSTGRES_PORT],
};

/**
 * How a client reaches a proxy's standbys: a port of their own (HAProxy), or the same port with an
 * application_name the proxy routes by when the session starts (Pgpool's redirect preference).
 */
export interface ReplicaPath {
  endpoint: PostgresEndpoint;
  /** Sent in the startup packet in place of the client's own name. */
  applicationName?: string;
}

export interface EntryPointContext {
  backend: StartedBackend;
  topology: Topology;
}

/**
 * A proxy between clients and the cluster. It is a member of its own (swimlane, fault target),
 * and the downtime clients see through it is its own, not the database's.
 */
export interface EntryPoint {
  readonly kind: ProxyKind;
  /** Member name of the host it runs on. */
  readonly member: string;
  /** Writes its config and starts it; the cluster is already healthy. */
  start(): Promise<void>;
  /** Starts it again after a fault killed it. */
  restart(): Promise<void>;
  endpoint(): PostgresEndpoint;
  /** Its read-only path (balanced over standbys), when it has one. */
  replicaPath?(): ReplicaPath;
  logFiles(): string[];
  version(): Promise<string>;
}

/**
 * Clients reach a proxy with the same credentials as the nodes behind it, at the proxy's own address.
 */
export function proxyEndpoint(
  context: EntryPointContext,
  member: string,
  port = POSTGRES_PORT,
): PostgresEndpoint {
  const [node] = context.topology.postgresMembers();
  if (!node) throw new Error(`${member}: the topology has no PostgreSQL member to proxy`);
  return { ...context.topology.endpoint(node), ...context.backend.member(member).endpoint(port) };
}
