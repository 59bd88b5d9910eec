/** What verify computes from a RunRecord; every reporter shows these and recomputes nothing. */

import type { RtoBound } from "./bound.ts";
import type { RtoPhases } from "./phases.ts";

export interface Promotion {
  at_ns: number;
  member: string;
  timeline: number;
  fork_lsn: string | null;
  source: string;
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

export interface SplitBrain {
  /** True when two members accepted writes, or were sampled writable, at overlapping times. */
  detected: boolean;
  window_s: number;
  /** Human-readable evidence, one line each. */
  evidence: string[];
  /** Every finding behind the evidence, pair by pair and source by source, in time order. */
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
  /** When writes stopped being acknowledged because of the fault (≥ at_ns; see rto.ts). */
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
  lost_writes: number;
}

export interface Figures {
  /** Fault → first acknowledged write after it, worst over all faults; null: no fault or never recovered. */
  rto_s: number | null;
  /** Longest gap between consecutive acknowledged writes while the workload ran. */
  max_write_gap_s: number | null;
  lost_writes: number;
  unknown_writes: number;
  acknowledged_writes: number;
  failed_writes: number;
  /** WAL acknowledged on an old timeline beyond the fork point of the timeline that replaced it. */
  wal_loss_bytes: number;
  promotions: number;
  split_brain: boolean;
  split_brain_window_s: number;
  /** Longest time a single write was in flight without an answer, whatever its outcome. */
  write_blocked_s: number | null;
  /** Heal → the old primary sampled as a replica on a newer timeline; null when it never was (or no primary was hit). */
  old_primary_rejoin_s: number | null;
  /** Per writer group ("direct", "haproxy", "pgpool", placement groups), by group name. */
  groups: Record<string, GroupFigures>;
}

export interface ExpectationResult {
  key: string;
  expected: string;
  actual: string;
  pass: boolean;
}

export interface Verification {
  verdict: "pass" | "fail";
  figures: Figures;
  expectations: ExpectationResult[];
  lost_write_ids: number[];
  unknown_write_ids: number[];
  /** Unknown writes found on the final primary (they did commit) — informative only. */
  unknown_found_ids: number[];
  promotions: Promotion[];
  split_brain: SplitBrain;
  /** RTO per injected fault, in timeline order. */
  rto_per_fault: {
    fault: string;
    target: string;
    at_ns: number;
    outage_start_ns: number;
    rto_s: number | null;
    /** Detection, election, reconnection (phases.ts); null when no promotion answered the fault. */
    phases: RtoPhases | null;
  }[];
  /** The RTO the HA settings imply (bound.ts); null when it cannot be derived from the record. */
  rto_bound: RtoBound | null;
  /** Per fault and entry point, in timeline order: when writes were impossible (worst one per fault is its RTO). */
  outages: Outage[];
  /** Checks that could not be made honestly (e.g. final state unreadable); they fail the verdict. */
  problems: string[];
}
