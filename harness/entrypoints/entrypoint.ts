import type { StartedBackend } from "../backend/backend.ts";
import type { RunClock } from "../common/clock.ts";
import type { PostgresEndpoint } from "../model/cluster.ts";
import type { EntryPointKind, NameServiceSettings } from "../model/scenario.ts";
import type { TimelineEvent } from "../model/timeline.ts";
import { POSTGRES_PORT } from "../topology/members.ts";
import type { Topology } from "../topology/topology.ts";

/** Entry points that run on a host of their own: a proxy, or the name service. */
export type HostedKind = Exclude<EntryPointKind, "direct" | "uri">;

export function isHosted(kind: EntryPointKind): kind is HostedKind {
  return kind !== "direct" && kind !== "uri";
}

/** HAProxy's read-only frontend. */
export const REPLICA_PORT = 5433;

/** The name service's DNS ports: its resolver's, and its authority's (which the re-pointer asks). */
export const RESOLVER_PORT = 53;
export const AUTHORITY_PORT = 5353;

/** Ports dialled on an entry point's host: PostgreSQL's and HAProxy's read-only frontend; DNS. */
export const HOSTED_PORTS: { readonly [K in HostedKind]: readonly number[] } = {
  haproxy: [POSTGRES_PORT, REPLICA_PORT],
  pgpool: [POSTGRES_PORT],
  dns: [RESOLVER_PORT, AUTHORITY_PORT],
};

/** Entry points whose clients resolve a name inside a member: their writers run in a helper there. */
export function connectsByName(kind: EntryPointKind): kind is "dns" {
  return kind === "dns";
}

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
  /** The scenario's `dns:` settings (the dns entry point only). */
  nameService: NameServiceSettings;
}

/** Records an event on the run's timeline (the name service's re-pointings). */
export interface EntryPointObserver {
  clock: RunClock;
  event(event: TimelineEvent): void;
  /** Where in its interval a poller starts is drawn from this seed (the run's, derived). */
  seed: number;
}

/**
 * A proxy or name service between clients and the cluster. It is a member of its own (swimlane,
 * fault target), and the downtime clients see through it is its own, not the database's.
 */
export interface EntryPoint {
  readonly kind: HostedKind;
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
  /**
   * Starts what moves the entry point after the HA manager acts, when something does (the name
   * service's poller); the returned function stops it.
   */
  follow?(observer: EntryPointObserver): () => Promise<void>;
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
