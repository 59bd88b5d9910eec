/** What verify computes from a RunRecord; every reporter shows these and recomputes nothing. */

export interface Promotion {
  at_ns: number;
  member: string;
  timeline: number;
  fork_lsn: string | null;
  source: string;
}

export interface SplitBrain {
  /** True when two members accepted writes, or were sampled writable, at overlapping times. */
  detected: boolean;
  window_s: number;
  /** Human-readable evidence, one line each. */
  evidence: string[];
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
  }[];
  /** Checks that could not be made honestly (e.g. final state unreadable); they fail the verdict. */
  problems: string[];
}
