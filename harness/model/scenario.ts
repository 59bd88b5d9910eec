/**
 * The scenario's vocabulary: the names a scenario file may use (topologies, stacks, faults,
 * backends, entry points) and its parsed form, which every floor above reads. scenario/ parses
 * and checks it; nothing here knows how.
 */

export const TOPOLOGIES = ["patroni", "patroni-k8s", "pg_auto_failover", "repmgr"] as const;
export type TopologyName = (typeof TOPOLOGIES)[number];

/** A record's topology is a string (older files, other versions): this says whether it is one we know. */
export function isTopologyName(name: string): name is TopologyName {
  return (TOPOLOGIES as readonly string[]).includes(name);
}

/** The node images docker/build.sh builds: Debian 12's and Debian 13's packages. */
export const STACKS = ["bookworm", "trixie"] as const;

export const BACKENDS = ["local", "docker", "ssh", "kubernetes"] as const;
export type BackendKind = (typeof BACKENDS)[number];
/** Backends that start members of their own (a scenario's or suite's `backend:`); ssh attaches to a cluster file's hosts. */
export const PROVISIONING_BACKENDS = ["local", "docker", "kubernetes"] as const;

/**
 * How applications reach the cluster: the harness's own routing (direct), the cluster's multi-host
 * connection string through libpq (uri), a proxy in its own namespace (haproxy, pgpool), or a DNS
 * name that a poller re-points at the primary (dns).
 */
export const ENTRYPOINTS = ["direct", "uri", "haproxy", "pgpool", "dns"] as const;
export type EntryPointKind = (typeof ENTRYPOINTS)[number];

/** How the name follows the primary: its poll interval and the record's TTL. */
export interface NameServiceSettings {
  intervalMs: number;
  ttlS: number;
}

/** The isolation level list-append transactions run at, as the scenario spells it. */
export const ISOLATION_LEVELS = ["read-committed", "repeatable-read", "serializable"] as const;
export type Isolation = (typeof ISOLATION_LEVELS)[number];

/** What writers write: one ledger row each (ledger), or a list-append transaction that inserts it. */
export type WriteKind =
  | { kind: "ledger" }
  | { kind: "list-append"; isolation: Isolation; keys: number; appendsPerKey: number };

/** A scenario target as written: one group, or several hit at once written "primary + sync_standby". */
export type Target = string;

const TARGET_SEPARATOR = " + ";

export function joinTargets(groups: string[]): Target {
  return groups.join(TARGET_SEPARATOR);
}

/** The groups of a target, each resolved on its own against the same cluster state. */
export function targetGroups(target: Target): string[] {
  return target.split(TARGET_SEPARATOR);
}

/**
 * A validated scenario's setup — everything but its steps, which are the faults' own vocabulary
 * (scenario/scenario.ts: Scenario adds them): durations in ms. What floors below the faults read.
 */
export interface ScenarioSetup {
  file: string;
  source: string;
  name: string;
  description: string;
  topologies: TopologyName[];
  /** The backend the scenario asks for; null: whatever the invocation chooses (local by default). */
  backend: BackendKind | null;
  cluster: ClusterSpec;
  workload: {
    write: WriteKind;
    writers: number;
    rate: number;
    timeoutMs: number;
    readers: { primary: number; replica: number; rate: number };
    /** Client groups placed inside a member's host. */
    placed: {
      name: string;
      writers: number;
      readers: number;
      rate: number;
      with: Target;
      /** cluster: every node, as a multi-host string; local: only the member it sits beside; dns: the name service's name. */
      connect: "cluster" | "local" | "dns";
    }[];
  };
  /** One writer group per entry point, all running at once. */
  entrypoints: EntryPointKind[];
  /** The dns entry point's poll interval and record TTL. */
  nameService: NameServiceSettings;
  /** What its faults need of the backend, by capability name (backend/backend.ts: Capability): the topology provides some (faketime). */
  needs: readonly string[];
  /** Expectation key → the text the user wrote (checked by verify when the scenario is parsed). */
  expect: Record<string, string | number | boolean>;
  /** The longest one run may take before it is torn down and recorded as failed. */
  timeoutMs: number;
  /** abort_if write_gap: the run stops (healed) once no write was acknowledged for this long; null: never. */
  abortWriteGapMs: number | null;
  /** One axis per `sweep:` key, in the order written; the plan runs every combination. */
  sweep: SweepAxis[];
}

export type SweepValue = string | number | boolean;

/** `stack: [...]`, or one HA manager's setting (`patroni.ttl: [10, 20]`), with its values. */
export type SweepAxis =
  | { kind: "stack"; key: "stack"; values: (typeof STACKS)[number][] }
  | { kind: "setting"; key: string; topology: TopologyName; setting: string; values: SweepValue[] };

/** `cluster:` as parsed (scenario/schema.ts checks it; written out here so no floor below needs zod's schema). */
export interface ClusterSpec {
  stack?: (typeof STACKS)[number] | undefined;
  nodes: number;
  replication: "async" | "sync";
  ha: HaSettings;
  disk?: string | undefined;
}

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** `cluster.ha:` each HA manager's own settings, as the topologies read them. */
export interface HaSettings {
  patroni?: Record<string, Json> | undefined;
  "patroni-k8s"?: Record<string, Json> | undefined;
  /** Monitor GUCs and keeper timeouts (topology/pg-auto-failover/pg-auto-failover.ts names them), candidate_priority. */
  pg_auto_failover?: Partial<Record<string, number>> | undefined;
  repmgr?: RepmgrSettings | undefined;
}

/** repmgr.conf keys a scenario may set (topology/repmgr/repmgr.ts's REPMGR_SETTINGS). */
export interface RepmgrSettings {
  reconnect_attempts?: number | undefined;
  reconnect_interval?: number | undefined;
  monitor_interval_secs?: number | undefined;
  priority?: number | undefined;
  primary_visibility_consensus?: boolean | undefined;
  standby_disconnect_on_failover?: boolean | undefined;
  degraded_monitoring_timeout?: number | undefined;
}
