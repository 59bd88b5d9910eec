/** Tiny builders for synthetic histories and timelines; times are given in seconds for readability. */

import type { ClientFigures, Figures, Promotion } from "../model/figures.ts";
import type { WriteOperation } from "../model/history.ts";
import type { RunRecord } from "../model/record.ts";
import type { Role, TimelineEvent } from "../model/timeline.ts";
import { nameServiceFigures } from "./name-service.ts";

/** Seconds → integer nanoseconds, so differences in tests are exact. */
export function ns(seconds: number): number {
  return Math.round(seconds * 1_000_000_000);
}

export function okWrite(
  id: number,
  node: string,
  timeline: number,
  invokeS: number,
  completeS: number,
  lsn: string | null = null,
): WriteOperation {
  return {
    id,
    group: "direct",
    writer: "direct/w1",
    invoke_ns: ns(invokeS),
    complete_ns: ns(completeS),
    outcome: "ok",
    node,
    timeline,
    lsn,
    error: null,
  };
}

export function failedWrite(id: number, invokeS: number, completeS: number, node: string | null = "n1") {
  return notAcknowledged("fail", id, invokeS, completeS, node, "connection refused");
}

export function unknownWrite(id: number, invokeS: number, completeS: number, node: string | null = "n1") {
  return notAcknowledged("unknown", id, invokeS, completeS, node, "connection reset during commit");
}

function notAcknowledged(
  outcome: "fail" | "unknown",
  id: number,
  invokeS: number,
  completeS: number,
  node: string | null,
  error: string,
): WriteOperation {
  return {
    id,
    group: "direct",
    writer: "direct/w1",
    invoke_ns: ns(invokeS),
    complete_ns: ns(completeS),
    outcome,
    node,
    timeline: null,
    lsn: null,
    error,
  };
}

export function faultInjected(atS: number, fault = "kill", members = ["n1"]): TimelineEvent {
  return { at_ns: ns(atS), kind: "fault", phase: "inject", fault, target: "primary", members };
}

export function faultHealed(atS: number, fault = "kill", members = ["n1"]): TimelineEvent {
  return { at_ns: ns(atS), kind: "fault", phase: "heal", fault, target: "primary", members };
}

export function roleSample(
  atS: number,
  member: string,
  role: Role,
  timeline: number | null = null,
  observer = "outside",
): TimelineEvent {
  return { at_ns: ns(atS), kind: "role", member, role, observer, timeline, lsn: null };
}

export function promotionReported(
  atS: number,
  member: string,
  timeline: number,
  forkLsn: string | null = null,
): TimelineEvent {
  return {
    at_ns: ns(atS),
    kind: "promotion",
    source: "patroni /history",
    member,
    timeline,
    fork_lsn: forkLsn,
    reason: "no action. I am (n2), the leader with the lock",
  };
}

export function step(atS: number, text: string): TimelineEvent {
  return { at_ns: ns(atS), kind: "step", text };
}

export function runRecord(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    run_id: "run-test",
    scenario: "kill-primary",
    topology: "patroni-3",
    backend: "docker",
    stack: {
      name: "trixie",
      postgresBin: "/usr/lib/postgresql/17/bin",
      image: { name: "pgchaos/node:trixie", id: "sha256:0123456789ab" },
    },
    started_at: "2025-01-01T00:00:00Z",
    duration_s: 60,
    versions: { postgres: "17" },
    settings: {},
    members: [
      { name: "n1", kind: "postgres", address: "10.0.0.1" },
      { name: "n2", kind: "postgres", address: "10.0.0.2" },
    ],
    history: [],
    reads: [],
    timeline: [],
    final: { primary: "n2", ids: [], nodes: [] },
    entrypoints: ["direct"],
    expect: {},
    problems: [],
    seed: 1,
    plan: null,
    concurrency: 1,
    harness: null,
    ...overrides,
  };
}

/**
 * A clean failover: n1 (tl 1) acknowledges writes 1–3, is killed at 10 s, n2 is promoted to tl 2
 * at 14 s (fork at 0/3000100, past every tl 1 ack) and acknowledges writes 5–7; write 4 failed.
 */
export function cleanFailover(): RunRecord {
  const history = [
    okWrite(1, "n1", 1, 8.0, 8.01, "0/3000000"),
    okWrite(2, "n1", 1, 9.0, 9.01, "0/3000080"),
    okWrite(3, "n1", 1, 9.9, 9.91, "0/3000100"),
    failedWrite(4, 10.5, 10.6),
    okWrite(5, "n2", 2, 14.2, 15.21, "0/3000200"),
    okWrite(6, "n2", 2, 16.0, 16.01, "0/3000280"),
    okWrite(7, "n2", 2, 17.0, 17.01, "0/3000300"),
  ];
  const timeline = [
    step(0, "workload started"),
    roleSample(1, "n1", "primary", 1),
    roleSample(1, "n2", "replica", 1),
    roleSample(9.5, "n1", "primary", 1),
    roleSample(9.5, "n2", "replica", 1),
    faultInjected(10),
    roleSample(11, "n1", "down"),
    roleSample(11, "n2", "replica", 1),
    promotionReported(14, "n2", 2, "0/3000100"),
    roleSample(14.5, "n2", "primary", 2),
    faultHealed(18),
    roleSample(19, "n1", "replica", 2),
    roleSample(19, "n2", "primary", 2),
    step(20, "workload stopped"),
  ];
  return runRecord({
    history,
    timeline,
    final: { primary: "n2", ids: [1, 2, 3, 5, 6, 7], nodes: [] },
    expect: { rto: "< 30s", lost_writes: 0, promotions: 1, split_brain: false },
  });
}

/** The read, dual-primary and transaction figures of a run without readers or transactions. */
export const NO_READ_FIGURES = {
  dual_primary_s: 0,
  reads: 0,
  stale_reads: null,
  max_staleness_s: null,
  lost_data_reads: null,
  non_monotonic_reads: null,
  replica_staleness_s: null,
  replica_lag_bytes: null,
  transactions: null,
  txn_anomalies: null,
} as const satisfies ClientFigures;

/** Figures of an uneventful run, to override one field at a time. */
export function figures(overrides: Partial<Figures> = {}): Figures {
  return {
    groups: {},
    write_blocked_s: 5.25,
    old_primary_rejoin_s: null,
    ...nameServiceFigures(null),
    rto_s: 5.21,
    max_write_gap_s: 5.3,
    lost_writes: 0,
    unknown_writes: 0,
    acknowledged_writes: 6,
    failed_writes: 1,
    wal_loss_bytes: 0,
    promotions: 1,
    split_brain: false,
    split_brain_window_s: 0,
    diverged: false,
    ...NO_READ_FIGURES,
    ...overrides,
  };
}

/** A promotion as verify derives it, to override one field at a time. */
export function promotionOf(
  overrides: Partial<Promotion> & Pick<Promotion, "member" | "timeline">,
): Promotion {
  return {
    at_ns: ns(10),
    parent: overrides.timeline - 1,
    fork_lsn: null,
    fork_source: null,
    ha_fork_lsn: null,
    source: "patroni /history",
    unrecorded: null,
    ...overrides,
  };
}
