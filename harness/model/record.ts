import type { ReadOperation, WriteOperation } from "./history.ts";
import type { TimelineEvent } from "./timeline.ts";

/** A member of the cluster under test, as the report draws it (one swimlane each). */
export interface Member {
  name: string;
  kind: "postgres" | "dcs" | "monitor" | "witness" | "entrypoint";
  address: string;
}

/** Last known WAL position of a PostgreSQL member, read after the final heal. */
export interface NodeLsn {
  member: string;
  role: "primary" | "replica" | "down";
  timeline: number | null;
  lsn: string | null;
}

/** One line of a timeline history file: `timeline` forked off `parent` at `fork_lsn`. */
export interface TimelineFork {
  timeline: number;
  parent: number;
  fork_lsn: string;
  reason: string;
}

/** A member's timeline and its ancestry, from its own pg_wal/<timeline>.history, read at the end. */
export interface TimelineHistory {
  member: string;
  timeline: number;
  /** Oldest first; empty on timeline 1. */
  forks: TimelineFork[];
}

/** A node that accepted writes at the end, and the ledger it holds. */
export interface FinalSide {
  member: string;
  /** Ledger ids present on it; null when it could not be read. */
  ids: number[] | null;
}

/** Everything a run observed: the input of verify. Pure data, no handles. */
export interface RunRecord {
  run_id: string;
  scenario: string;
  topology: string;
  backend: string;
  /** What ran in the members: the stack's name and, on Docker, the image and its id. */
  stack: Stack;
  started_at: string;
  duration_s: number;
  versions: Record<string, string>;
  /** HA and replication settings in force, as passed to the HA manager. */
  settings: Record<string, unknown>;
  members: Member[];
  history: WriteOperation[];
  /** Every read of the ledger, in the order they completed (empty without readers). */
  reads: ReadOperation[];
  timeline: TimelineEvent[];
  /** The state read at the end, after every heal. */
  final: {
    /** The primary as the HA manager itself names it at the end (its leader key, monitor, metadata). */
    primary: string | null;
    /** Ledger ids present on the final primary; null when it could not be read. */
    ids: number[] | null;
    nodes: NodeLsn[];
    /**
     * Every node writable at the end, with its ledger: more than one when the run ended split
     * (absent in records made before it was read).
     */
    sides?: FinalSide[];
    /** Each reachable member's timeline ancestry (absent in records made before it was read). */
    histories?: TimelineHistory[];
  };
  /**
   * Writer groups that stand for an application's way into the cluster (direct, uri, haproxy, pgpool),
   * as opposed to placed groups probing one host. The run's RTO and write gap are the worst of these.
   */
  entrypoints: string[];
  /** The dns entry point's name and settings, and the groups that connect by it; absent without one. */
  name_service?: NameServiceRecord;
  /** The scenario's expectations, key → the text the user wrote. */
  expect: Record<string, string | number | boolean>;
  /** Things that went wrong in the run itself (a wait that timed out, a heal that failed). */
  problems: string[];
  /** The run's own seed: every random choice it made came from it. */
  seed: number;
  /** Where the run sits in its plan; null for records made before plans (or outside one). */
  plan: PlanPosition | null;
  /** Runs the plan ran at once; above 1 the members shared the machine with another cluster. */
  concurrency: number;
  /** What the harness itself cost; null for records made before it was measured. */
  harness: HarnessCost | null;
}

export interface PlanPosition {
  /** e.g. "kill-primary/patroni/r2": --only takes it to replay the run. */
  key: string;
  group: string;
  plan_id: string;
  plan_seed: number;
  repeat: number;
  /** Sweep axis → value for this run, e.g. { "patroni.ttl": 20 }. */
  point: Record<string, string | number | boolean>;
}

/** Where a run's wall and CPU time went, so the harness's own share can be told from the cluster's. */
export interface HarnessCost {
  /** Backend up: namespaces or containers created. */
  backend_start_s: number;
  /** From the backend up to the cluster healthy (initdb, bootstrap, replicas streaming). */
  cluster_start_s: number;
  teardown_s: number;
  /** CPU of the harness process over the run (all runs' when the plan ran several at once). */
  cpu_s: number;
}

/** The software stack running in the members: which PostgreSQL and where its binaries are. */
export interface Stack {
  /** "bookworm", "trixie", or the user's image for a custom one. */
  readonly name: string;
  /** PostgreSQL's bin directory inside the members (initdb, pg_ctl, postgres…). */
  readonly postgresBin: string;
  /** The image members run, with its id; null on the local backend (the host's own packages). */
  readonly image: { name: string; id: string } | null;
}

/** What the run's record says of its name service (record.name_service). */
export interface NameServiceRecord {
  name: string;
  interval_s: number;
  ttl_s: number;
  /** Writer groups that connect by the name: the entry point's own and placed groups with connect: dns. */
  groups: string[];
}
