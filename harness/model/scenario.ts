/**
 * The scenario's vocabulary: the names a scenario file may use (topologies, stacks, faults,
 * backends, entry points) and its parsed form, which every floor above reads. scenario/ parses
 * and checks it; nothing here knows how.
 */

import type { StartMode } from "./cluster.ts";

export const TOPOLOGIES = ["patroni", "patroni-k8s", "pg_auto_failover", "repmgr"] as const;
export type TopologyName = (typeof TOPOLOGIES)[number];

/** The node images docker/build.sh builds: Debian 12's and Debian 13's packages. */
export const STACKS = ["bookworm", "trixie"] as const;

export const FAULTS = [
  "kill",
  "stop",
  "crash-postgres",
  "freeze",
  "partition",
  "packet-loss",
  "switchover",
  "promote",
  "rolling-restart",
  "pause",
  "disconnect",
  "latency",
  "bandwidth",
  "reset-peer",
  "slow-close",
  "disk-full",
  "io-freeze",
  "kill-agent",
  "freeze-agent",
  "crash-backend",
  "clock-skew",
] as const;
export type FaultName = (typeof FAULTS)[number];

/** Faults on the links between two groups of members (a partition, and the proxies' faults). */
export const LINK_FAULTS = [
  "partition",
  "latency",
  "bandwidth",
  "reset-peer",
  "slow-close",
] as const satisfies readonly FaultName[];

/**
 * Faults a nemesis can draw: those a target alone describes (a partition isolates its target,
 * packet loss drops the nemesis's percent). Link faults need two groups, a rogue promotion or a
 * rolling restart is a procedure of its own, a clock skew an offset: those stay explicit steps.
 */
export const NEMESIS_FAULTS = [
  "kill",
  "stop",
  "crash-postgres",
  "freeze",
  "partition",
  "packet-loss",
  "switchover",
  "pause",
  "disconnect",
  "disk-full",
  "io-freeze",
  "kill-agent",
  "freeze-agent",
  "crash-backend",
] as const satisfies readonly FaultName[];

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

export interface FaultOptions {
  /** switchover: the member to promote; null lets the HA manager choose. */
  to: string | null;
  /** packet-loss: share of packets dropped, 0–100. */
  percent: number | null;
  /** partition between two groups of member groups (tokens as in the scenario, "clients" included). */
  between: [string[], string[]] | null;
  /** partition between: drop only packets from the first group to the second. */
  oneWay: boolean;
  /** rolling-restart: PostgreSQL parameters each member gets as it restarts. */
  settings: Record<string, string> | null;
  /** latency: round-trip time added to each link, and how much it varies (± jitterMs). */
  delayMs: number | null;
  jitterMs: number | null;
  /** bandwidth: each link's rate limit. */
  kbps: number | null;
  /** clock-skew: how far the HA agent's clock moves, signed. */
  offsetMs: number | null;
}

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

export type NemesisFault = (typeof NEMESIS_FAULTS)[number];

export type Step =
  | {
      kind: "wait";
      until: "healthy" | "writable";
      timeoutMs: number;
      /** healthy only: how long it must hold before the step returns. */
      stableMs: number;
    }
  | { kind: "sleep"; ms: number /** A random 0..jitterMs more, from the run's seed. */; jitterMs: number }
  | {
      kind: "fault";
      fault: FaultName;
      /** The members it hits (for a partition: the isolated ones); null for a partition between groups. */
      target: Target | null;
      options: FaultOptions;
      /** Heal by itself after this long; null: at the next heal step. */
      durationMs: number | null;
      /** file:line:col of the step, for errors found once the backend is known. */
      at: string;
    }
  | {
      kind: "heal";
      mode: StartMode;
      /** Heal only the faults on these members (resolved now); null: every fault. */
      target: Target | null;
    }
  | NemesisStep;

/** Random faults at random times from the run's seed (harness/faults/nemesis.ts draws the schedule). */
export interface NemesisStep {
  kind: "nemesis";
  faults: NemesisFault[];
  targets: Target[];
  /** [shortest, longest] quiet time after a heal, and fault length. */
  intervalMs: [number, number];
  durationMs: [number, number];
  totalMs: number;
  /** packet-loss: share of packets dropped. */
  percent: number;
  at: string;
}

/** A validated scenario, ready to run: durations in ms, steps as a tagged union. */
export interface Scenario {
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
  steps: Step[];
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
  /** Monitor GUCs and keeper timeouts (topology/pg-auto-failover.ts names them), candidate_priority. */
  pg_auto_failover?: Partial<Record<string, number>> | undefined;
  repmgr?: RepmgrSettings | undefined;
}

/** repmgr.conf keys a scenario may set (topology/repmgr.ts's REPMGR_SETTINGS). */
export interface RepmgrSettings {
  reconnect_attempts?: number | undefined;
  reconnect_interval?: number | undefined;
  monitor_interval_secs?: number | undefined;
  priority?: number | undefined;
  primary_visibility_consensus?: boolean | undefined;
  standby_disconnect_on_failover?: boolean | undefined;
  degraded_monitoring_timeout?: number | undefined;
}
