/**
 * What verify computes from a RunRecord, and each of its checks' findings: every reporter shows
 * these and recomputes nothing. The checks themselves live in verify/, one file each.
 */

import type { Outcome, ReadOperation, ReadTarget, WriteOperation } from "./history.ts";

/** Where a promotion's fork point was read: PostgreSQL's own history file, or only the HA manager's record. */
export type ForkSource = "timeline history" | "ha manager";

export interface Promotion {
  at_ns: number;
  member: string;
  timeline: number;
  /** The timeline it forked off (the history file's; timeline − 1 when that was not read). */
  parent: number;
  /** Where the new timeline forked off its parent; null when neither PostgreSQL nor the HA manager said. */
  fork_lsn: string | null;
  fork_source: ForkSource | null;
  /** The HA manager's own fork LSN, kept to be checked against PostgreSQL's; null when it records none. */
  ha_fork_lsn: string | null;
  /** Who reported the promotion: the HA manager's history, or "role samples". */
  source: string;
  /** For a promotion only the samples saw: why the HA manager's record lacks it. */
  unrecorded: string | null;
}

/** "acknowledged": both committed writes (certain); "sampled": both were sampled primary (observed). */
export type SplitBrainSource = "acknowledged" | "sampled";

/** Where the evidence places two members accepting writes at once; the report draws these. */
export interface SplitBrainInterval {
  start_ns: number;
  end_ns: number;
  members: string[];
  source: SplitBrainSource;
}

/** Divergence: from acknowledgements only. */
export interface SplitBrain {
  /** True when two members acknowledged writes at overlapping times. */
  detected: boolean;
  window_s: number;
  /** Human-readable evidence, one line each. */
  evidence: string[];
  /** Every finding behind the evidence, pair by pair, in time order (source "acknowledged"). */
  intervals: SplitBrainInterval[];
}

/** Two primaries by role: from role samples only. */
export interface DualPrimary {
  /** Total time two or more members were sampled writable at once. */
  seconds: number;
  evidence: string[];
  /** Each pair's windows, in time order (source "sampled"). */
  intervals: SplitBrainInterval[];
}

/** When clients on one entry point could not write after one fault: the window its RTO measures. */
export interface Outage {
  /** The writer group (entry point) whose clients saw it. */
  group: string;
  fault: string;
  target: string;
  /** When the fault was injected. */
  at_ns: number;
  /** When writes stopped being acknowledged because of the fault (≥ at_ns; see verify/rto.ts). */
  start_ns: number;
  /** The first acknowledgement of a write invoked after the disruption; null: writes never came back. */
  end_ns: number | null;
}

/** The figures of one writer group: what clients on that path (entry point, placement) saw. */
export interface GroupFigures {
  rto_s: number | null;
  max_write_gap_s: number | null;
  acknowledged_writes: number;
  failed_writes: number;
  unknown_writes: number;
  /** null when the final primary could not be read. */
  lost_writes: number | null;
}

export interface Figures {
  /** Fault → first acknowledged write after it, worst over all faults; null: no fault or never recovered. */
  rto_s: number | null;
  /** Longest gap between consecutive acknowledged writes while the workload ran. */
  max_write_gap_s: number | null;
  /** null when the final primary could not be read: absence proves nothing then. */
  lost_writes: number | null;
  unknown_writes: number;
  acknowledged_writes: number;
  failed_writes: number;
  /**
   * WAL acknowledged on a timeline the cluster did not keep (an old timeline past the fork, or a
   * promoted timeline abandoned); null when a fork point or an acknowledged LSN was not known.
   */
  wal_loss_bytes: number | null;
  promotions: number;
  /** Two members acknowledged writes at overlapping times (divergence). */
  split_brain: boolean;
  split_brain_window_s: number;
  /** More than one node was writable at the end: the ledgers diverged (see Verification.divergence). */
  diverged: boolean;
  /** Total time two members were sampled writable (not in recovery) at once. */
  dual_primary_s: number;
  /** Reads answered; the read checks below judge these. */
  reads: number;
  /** Reads that missed a write acknowledged before they began; null without answered reads. */
  stale_reads: number | null;
  /**
   * Worst staleness of a stale read; 0 when reads were answered and none was stale (so spreads over
   * repeats read it right); null without answered reads.
   */
  max_staleness_s: number | null;
  /** Reads that saw a write missing at the end; null without answered reads or final state. */
  lost_data_reads: number | null;
  /** Reads that no longer saw a write the same reader had seen; null without answered reads. */
  non_monotonic_reads: number | null;
  /** Worst time a replica read was behind; null without replica reads. */
  replica_staleness_s: number | null;
  /** Worst WAL bytes a replica read was behind; null without replica reads carrying a position. */
  replica_lag_bytes: number | null;
  /** Committed list-append transactions; null for the ledger workload. */
  transactions: number | null;
  /** Anomalies the list-append checker found (every kind); null for the ledger workload. */
  txn_anomalies: number | null;
  /** Longest time a single write was in flight without an answer, whatever its outcome. */
  write_blocked_s: number | null;
  /** Heal → the old primary sampled as a replica on a newer timeline; null when it never was (or no primary was hit). */
  old_primary_rejoin_s: number | null;
  /** Promotion → the name (dns entry point) answering the promoted member, worst over promotions; null without one. */
  repoint_delay_s: number | null;
  /** Writes by name acknowledged by a node that was no longer the primary (a stale name or connection); null without a dns entry point. */
  stale_name_writes: number | null;
  /** Writes by name that such a node refused or left unanswered; null without a dns entry point. */
  stale_name_refused_writes: number | null;
  /** Per writer group ("direct", "haproxy", "pgpool", placement groups), by group name. */
  groups: Record<string, GroupFigures>;
}

export interface PathRto {
  path: string;
  rto_s: number | null;
  /** null when no bound is derivable from the settings. */
  bound_s: number | null;
}

export interface ExpectationResult {
  key: string;
  expected: string;
  actual: string;
  pass: boolean;
}

/** A scalar figure by name (the catalogue's keys). */
export type ScalarFigureKey = {
  [K in keyof Figures]: Figures[K] extends number | boolean | null ? K : never;
}[keyof Figures];

export interface Verification {
  verdict: "pass" | "fail";
  figures: Figures;
  /** Why each null figure could not be measured, in words every reporter shows beside its "—". */
  unknown: Partial<Record<ScalarFigureKey, string>>;
  expectations: ExpectationResult[];
  lost_write_ids: number[];
  unknown_write_ids: number[];
  /** Unknown writes found on the final primary (they did commit) — informative only. */
  unknown_found_ids: number[];
  promotions: Promotion[];
  /** WAL loss per promotion: measured, or why not. */
  wal_loss: WalLossDetail[];
  /** The sides of a run that ended with more than one writable node; null when it did not. */
  divergence: Divergence | null;
  /** Why acknowledged writes were lost (or the run ended split), in one line with its evidence. */
  explanation: Explanation | null;
  split_brain: SplitBrain;
  dual_primary: DualPrimary;
  /** What readers saw: every stale, lost-data and non-monotonic read, per path too. */
  reads: ReadCheck;
  /** The list-append checker's findings; null for the ledger workload. */
  transactions: ListAppendCheck | null;
  /** The dns entry point's repointings and stale-name writes; null without one. */
  name_service: NameServiceCheck | null;
  /** RTO per injected fault, in timeline order. */
  rto_per_fault: {
    fault: string;
    target: string;
    at_ns: number;
    outage_start_ns: number;
    rto_s: number | null;
    /** Detection, election, reconnection (verify/phases.ts); null when no promotion answered the fault. */
    phases: RtoPhases | null;
  }[];
  /** The RTO the HA settings imply (verify/bound.ts, its HA manager's rules: topology/<name>/rules.ts); null when it cannot be derived from the record. */
  rto_bound: RtoBound | null;
  /**
   * Each client path's RTO beside the bound that path is held to: the HA bound for the direct
   * paths, the HA bound plus the poll interval and TTL for a name re-pointed late (dns).
   */
  paths: PathRto[];
  /** Per fault and entry point, in timeline order: when writes were impossible (worst one per fault is its RTO). */
  outages: Outage[];
  /** Checks that could not be made honestly (e.g. final state unreadable); they fail the verdict. */
  problems: string[];
}

/** The figures of an entry point that follows the primary late (the dns entry point). */
export const NAME_SERVICE_FIGURES = [
  "repoint_delay_s",
  "stale_name_writes",
  "stale_name_refused_writes",
] as const satisfies readonly (keyof Figures)[];
export type NameServiceFigure = (typeof NAME_SERVICE_FIGURES)[number];
export type NameServiceFigures = Pick<Figures, NameServiceFigure>;

/** The figures of what clients read, of two primaries by role, and of transactions: added together. */
export const CLIENT_FIGURES = [
  "dual_primary_s",
  "reads",
  "stale_reads",
  "max_staleness_s",
  "lost_data_reads",
  "non_monotonic_reads",
  "replica_staleness_s",
  "replica_lag_bytes",
  "transactions",
  "txn_anomalies",
] as const satisfies readonly (keyof Figures)[];
export type ClientFigure = (typeof CLIENT_FIGURES)[number];
export type ClientFigures = Pick<Figures, ClientFigure>;

// The RTO bound HA settings imply (verify/bound.ts; each HA manager's formula in topology/<name>/rules.ts).

/** The parts of an outage, in order; each part of a bound belongs to one. */
export type RtoPhaseName = "detection" | "election" | "reconnection";

export interface RtoBoundPart {
  /** The setting (or the HA manager's fixed loop) it comes from, e.g. "ttl". */
  name: string;
  s: number;
  phase: RtoPhaseName;
}

export interface RtoBound {
  /** The sum of the parts. */
  bound_s: number;
  parts: RtoBoundPart[];
  /** Each phase's share of the bound: the sum of its parts (0: the bound expects it to take no time). */
  share_s: Record<RtoPhaseName, number>;
  /** How the parts add up, e.g. "ttl + loop_wait". */
  formula: string;
  /** What the settings in force differ from (e.g. Patroni raised the ttl), or null. */
  note: string | null;
}

// An outage's phases (verify/phases.ts).

export interface RtoPhases {
  /** Outage start → the HA manager's first reaction; 0 when it reacted before writes stopped. */
  detection_s: number | null;
  /** First reaction → the promotion the HA manager reported. */
  election_s: number | null;
  /** Promotion → first acknowledged write, on the entry point that set the fault's RTO. */
  reconnection_s: number | null;
  /** Outage start → promotion (detection + election), known even when no reaction was recorded. */
  until_promotion_s: number | null;
  /** Promotion → first acknowledged write per entry point; null where writes never came back after it. */
  reconnection_per_entrypoint: Record<string, number | null>;
  /** The event that ended detection. */
  reaction: { at_ns: number; member: string | null; text: string } | null;
  /** The promotion that ended election; its source says whether the HA manager reported it. */
  promotion: { at_ns: number; member: string; source: string };
}

// A run that ended with more than one writable node (verify/divergence.ts).

export interface DivergedSide {
  member: string;
  /** The side the HA manager itself calls primary (lost_writes is judged against it). */
  ha_primary: boolean;
  timeline: number | null;
  lsn: string | null;
  /** Acknowledged writes absent from this side; null when its ledger could not be read. */
  missing_ids: number[] | null;
  /** The same, counted per writer group. */
  missing_by_group: Record<string, number>;
}

export interface Divergence {
  /** The writable nodes at the end, the HA manager's primary first. */
  members: string[];
  sides: DivergedSide[];
}

// Why writes were lost, in one line (verify/explain.ts).

/** One event an explanation rests on: when, and what it says. */
export interface Evidence {
  at_ns: number;
  text: string;
}

export interface Explanation {
  /** One sentence, e.g. "n3's timeline 2 (698 acknowledged writes) was abandoned: …". */
  text: string;
  evidence: Evidence[];
}

// WAL acknowledged on abandoned timelines (verify/wal-loss.ts).

export interface WalLossDetail {
  member: string;
  /** Timeline the promotion created. */
  timeline: number;
  /**
   * "past-fork": the timeline it forked from, whose acknowledged tail past the fork is lost;
   * "abandoned": the promoted timeline itself, gone because the final primary does not descend from it.
   */
  kind: "past-fork" | "abandoned";
  /** The timeline whose acknowledged WAL this measures. */
  measured_timeline: number;
  fork_lsn: string | null;
  /** Highest LSN acknowledged on the measured timeline; null when no write there carried one. */
  max_acked_lsn: string | null;
  /** null: not measurable, and `unknown` says why. */
  loss_bytes: number | null;
  unknown: string | null;
}

export interface WalLossCheck {
  /** null when any promotion's loss could not be measured: an unknown is never summed as zero. */
  wal_loss_bytes: number | null;
  /** Why wal_loss_bytes is null. */
  unknown: string | null;
  per_promotion: WalLossDetail[];
  problems: string[];
}

// What readers saw (verify/reads.ts).

/** Which read a finding is about: the read's own identity, as the history has it. */
export type OffendingRead = Pick<
  ReadOperation,
  "reader" | "group" | "target" | "node" | "invoke_ns" | "complete_ns"
>;

export interface StaleRead extends OffendingRead {
  /** The oldest acknowledged write it missed (earliest acknowledgement; the lower id on a tie). */
  missed_id: number;
  writer: string;
  missed_ack_ns: number;
  /** Read invoke − that ack. */
  staleness_s: number;
  /** How many acknowledged writes (all writers) it missed. */
  missed: number;
}

export interface LostDataRead extends OffendingRead {
  /** The id it saw that is missing at the end. */
  id: number;
  writer: string;
  /** Outcome of the write that wrote it: ok (acknowledged then lost), unknown or fail (an invisible commit that vanished). */
  write_outcome: Outcome;
}

export interface NonMonotonicRead {
  reader: string;
  group: string;
  target: ReadTarget;
  writer: string;
  /** Saw this id… */
  id: number;
  /** …in a read that completed then… */
  seen_ns: number;
  /** …then a later read of the same reader did not. */
  later_invoke_ns: number;
  later_head: number | null;
  node_before: string | null;
  node_after: string | null;
}

export interface PathReads {
  /** `${group}/${target}` */
  path: string;
  reads: number;
  ok_reads: number;
  stale_reads: number;
  max_staleness_s: number | null;
  lost_data_reads: number;
  non_monotonic_reads: number;
  /** Replica path only (target replica), else null; null too when none of its reads carried an lsn. */
  max_lag_bytes: number | null;
}

export interface ReadCheck {
  reads: number;
  ok_reads: number;
  stale: StaleRead[];
  lost_data: LostDataRead[];
  non_monotonic: NonMonotonicRead[];
  /** Worst staleness over every stale read (null: no stale read). */
  max_staleness_s: number | null;
  /** Replica-target ok reads only: worst time behind (0 when none missed anything; null without any). */
  replica_staleness_s: number | null;
  /** Replica-target ok reads only: worst WAL bytes behind; null when no replica read carried an lsn. */
  replica_lag_bytes: number | null;
  paths: PathReads[];
  problems: string[];
}

// The list-append checker's findings (verify/list-append.ts).

export const TXN_ANOMALY_KINDS = [
  "G0",
  "G1a",
  "G1b",
  "G1c",
  "G-single",
  "G2-item",
  "incompatible-order",
  "duplicate-elements",
  "internal",
] as const;

export type TxnAnomalyKind = (typeof TXN_ANOMALY_KINDS)[number];

export type DependencyType = "ww" | "wr" | "rw";

/** One edge of a cycle: `from` must precede `to` because of `value` on `key`. */
export interface DependencyStep {
  from: number;
  to: number;
  type: DependencyType;
  key: number;
  /** ww and rw: the value `to` appended; wr: the value `to` read last (appended by `from`). */
  value: number;
}

export interface TxnAnomaly {
  kind: TxnAnomalyKind;
  /** Ledger ids of the transactions involved. */
  txns: number[];
  text: string;
  cycle: DependencyStep[] | null;
}

export interface ListAppendCheck {
  /** Transactions attempted. */
  transactions: number;
  /** Transactions acknowledged. */
  committed: number;
  anomalies: TxnAnomaly[];
  counts: Record<TxnAnomalyKind, number>;
}

// The dns entry point's repointings (verify/name-service.ts).

export interface Repointing {
  /** The promotion it followed. */
  member: string;
  promoted_ns: number;
  /** When the name's server first answered the promoted member; null: not before the run ended. */
  repointed_ns: number | null;
  delay_s: number | null;
}

/** A write by name to a node that was no longer the primary when it was sent. */
export interface StaleNameWrite {
  id: number;
  group: string;
  node: string;
  outcome: WriteOperation["outcome"];
  invoke_ns: number;
  /** The member promoted before it, which the name should have led to. */
  primary: string;
}

export interface NameServiceCheck {
  name: string;
  repointings: Repointing[];
  /** Worst delay; null without promotions, or when one was never followed before the run ended. */
  repoint_delay_s: number | null;
  /** Acknowledged ones first: they committed on the old primary (the most dangerous writes of all). */
  stale_writes: StaleNameWrite[];
  acknowledged: number;
  /** Refused by the old primary (read-only) or left without an answer. */
  refused: number;
}
