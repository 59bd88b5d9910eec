import type { StartedBackend } from "../backend/backend.ts";
import type { ClusterStatus, PostgresEndpoint, StartMode } from "../model/cluster.ts";
import type { Member } from "../model/record.ts";
import type { ScenarioSetup } from "../model/scenario.ts";
import type { Parameters } from "./sql.ts";

/** A promotion as the HA manager itself recorded it. */
export interface HaPromotion {
  wallMs: number;
  member: string;
  timeline: number;
  forkLsn: string | null;
  reason: string;
}

export interface HaEvent {
  wallMs: number;
  member: string | null;
  text: string;
}

/**
 * The HA manager's client: what the HA manager says and does — status, switchover, promotions,
 * events, and how to reach its members. It needs the cluster's members, not how they were started,
 * so attaching to a cluster pgchaos did not start needs only another Deployment.
 */
export interface HaClient {
  readonly name: string;
  postgresMembers(): string[];
  /**
   * The multi-host connection string an application inside the cluster's network is given, without
   * credentials, with the members' own addresses (pg_auto_failover: its formation URI). Its host
   * order is the order clients try the members in.
   */
  connectionUri(): Promise<string>;
  status(): Promise<ClusterStatus>;
  /** The HA manager's own planned switchover away from the current primary; resolves once it is done. */
  switchover(candidate: string | null): Promise<void>;
  /** Promotions the HA manager recorded (e.g. Patroni's /history). */
  promotions(): Promise<HaPromotion[]>;
  /** The HA manager's own notable events (leadership, demotion, rewind…), read from its logs or tables. */
  haEvents(): Promise<HaEvent[]>;
  /**
   * Starts following what the HA manager writes as it happens, for what no log or table keeps
   * (Patroni's leader lock on the Kubernetes API); haEvents() then includes it. Returns the stop.
   */
  watch?(): () => Promise<void>;
  /** What the harness dials for a member's PostgreSQL. */
  endpoint(member: string): PostgresEndpoint;
}

/** The deployment: how the members were configured and started, and how they stop and start again. */
export interface Deployment {
  /** Every member with its kind; PostgreSQL members first. */
  members(): Member[];
  /** Writes configs and starts every member; returns once processes are launched. */
  start(): Promise<void>;
  /** PostgreSQL data directory of a member, inside the member (for pg_ctl and postmaster.pid). */
  dataDir(member: string): string;
  /**
   * Persists PostgreSQL parameters so the member's next start runs with them, the way this HA
   * manager wants them changed (Patroni: its DCS config, which reaches every member at once).
   */
  configure(member: string, parameters: Parameters): Promise<void>;
  /** Stops a member cleanly: the HA agent and PostgreSQL, the way an operator or a scale-to-zero would. */
  stopMember(member: string): Promise<void>;
  /** Starts a member's processes again after a fault (the heal of kill). */
  startMember(member: string, mode: StartMode): Promise<void>;
  /** The HA agent's processes on a PostgreSQL member (Patroni, pg_autoctl, repmgrd), by command line. */
  readonly agentCommand: RegExp;
  /** Starts the HA agent alone again, PostgreSQL left as it is (the heal of kill-agent). */
  startAgent(member: string): Promise<void>;
  versions(): Promise<Record<string, string>>;
  /** Settings in force, as shown in reports (no secrets). */
  settings(): Record<string, unknown>;
  /** Log files of a member, as paths inside the member, for reports and debugging. */
  logFiles(member: string): string[];
}

/** One HA manager on a backend: its deployment and its client, which is what faults and the runner use. */
export interface Topology extends HaClient, Deployment {}

export interface TopologyContext {
  backend: StartedBackend;
  scenario: ScenarioSetup;
  runId: string;
  /** Superuser password for this run only; never written to reports. */
  password: string;
}

/** The members a topology will have, before any exists: what the backend is asked to create. */
export interface TopologyKind {
  members(scenario: ScenarioSetup): { name: string; kind: Member["kind"] }[];
  /** Ports the harness dials on its members (PostgreSQL, and an HA manager's own API). */
  readonly harnessPorts: number[];
  create(context: TopologyContext): Topology;
}
