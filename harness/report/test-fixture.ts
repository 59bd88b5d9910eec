import type { Verification } from "../model/figures.ts";
import type { WriteOperation } from "../model/history.ts";
import type { RunRecord } from "../model/record.ts";
import type { TimelineEvent } from "../model/timeline.ts";
/**
 * A synthetic run for the reporter tests: patroni on n1..n3 with etcd e1..e3, the primary (n1)
 * killed at 3 s and healed at 20 s, n2 promoted at 8.2 s onto timeline 2. Two writes acknowledged
 * by n1 just before the kill never reached n2 (lost); the one in flight at the kill is unknown.
 */
import { nameServiceFigures } from "../verify/name-service.ts";
import { checkReads } from "../verify/reads.ts";
import { NO_READ_FIGURES } from "../verify/test-helpers.ts";
import type { RunReport } from "./reporter.ts";

const s = (seconds: number): number => Math.round(seconds * 1e9);

/** Secret values planted in the settings; no report may contain them. */
export const FIXTURE_SECRETS = ["pg-super-Secret-1", "repl-Secret-2", "rest-Secret-3", "dsn-Secret-4"];

function lsn(n: number): string {
  return `0/${(0x5030000 + n * 0x38).toString(16).toUpperCase()}`;
}

function history(): WriteOperation[] {
  const ops: WriteOperation[] = [];
  let id = 0;
  const push = (
    at: number,
    took: number,
    rest: Omit<WriteOperation, "id" | "writer" | "group" | "invoke_ns" | "complete_ns">,
  ) => {
    id += 1;
    ops.push({ id, writer: "w1", group: "direct", invoke_ns: s(at), complete_ns: s(at + took), ...rest });
  };
  // Acknowledged by n1 on timeline 1, every 100 ms until the kill.
  for (let t = 0.5; t < 2.95; t += 0.1) {
    push(t, 0.004, { outcome: "ok", node: "n1", timeline: 1, lsn: lsn(id), error: null });
  }
  // In flight when n1 died: the client cannot know whether it committed.
  push(2.995, 0.5, {
    outcome: "unknown",
    node: "n1",
    timeline: null,
    lsn: null,
    error: "connection terminated unexpectedly",
  });
  // No writable node until the promotion: refused outright.
  for (let t = 3.6; t < 8.45; t += 0.2) {
    push(t, 0.002, { outcome: "fail", node: null, timeline: null, lsn: null, error: "connection refused" });
  }
  for (let t = 8.5; t < 29.95; t += 0.1) {
    push(t, 0.004, { outcome: "ok", node: "n2", timeline: 2, lsn: lsn(id + 100), error: null });
  }
  return ops;
}

function timeline(): TimelineEvent[] {
  const role = (at: number, member: string, r: "primary" | "replica" | "down", tl: number | null) =>
    ({ at_ns: s(at), kind: "role", member, role: r, observer: "outside", timeline: tl, lsn: null }) as const;
  return [
    { at_ns: s(0), kind: "step", text: "cluster up" },
    role(0.2, "n1", "primary", 1),
    role(0.2, "n2", "replica", 1),
    role(0.2, "n3", "replica", 1),
    role(0.3, "e1", "primary", null),
    role(0.3, "e2", "replica", null),
    role(0.3, "e3", "replica", null),
    { at_ns: s(0.5), kind: "step", text: "workload started" },
    { at_ns: s(3), kind: "fault", phase: "inject", fault: "kill", target: "primary", members: ["n1"] },
    role(3.05, "n1", "down", null),
    { at_ns: s(7.9), kind: "ha", source: "patroni", member: "n2", text: "acquired session lock as a leader" },
    {
      at_ns: s(8.2),
      kind: "promotion",
      source: "patroni /history",
      member: "n2",
      timeline: 2,
      fork_lsn: "0/5030E50",
      reason: "no action. I am (n2), the leader with the lock",
    },
    role(8.25, "n2", "primary", 2),
    role(8.6, "n3", "replica", 2),
    { at_ns: s(20), kind: "fault", phase: "heal", fault: "kill", target: "primary", members: ["n1"] },
    { at_ns: s(21.4), kind: "ha", source: "patroni", member: "n1", text: "running pg_rewind from n2" },
    role(21.5, "n1", "replica", 2),
    { at_ns: s(30), kind: "step", text: "workload stopped" },
  ];
}

export function fixtureRecord(): RunRecord {
  const ops = history();
  const lost = new Set([24, 25]);
  return {
    run_id: "20250101T120000Z-kill-primary-7f3a",
    scenario: "kill-primary",
    topology: "patroni",
    backend: "local",
    stack: { name: "bookworm", postgresBin: "/usr/lib/postgresql/15/bin", image: null },
    started_at: "2025-01-01T12:00:00.000Z",
    duration_s: 30.2,
    versions: { postgres: "17.2", patroni: "4.0.4", etcd: "3.5.17", pgchaos: "0.1.0" },
    settings: {
      ttl: 30,
      loop_wait: 10,
      retry_timeout: 10,
      maximum_lag_on_failover: 1048576,
      synchronous_mode: false,
      postgresql: {
        parameters: { wal_level: "replica", max_wal_senders: 10 },
        authentication: {
          superuser: { username: "postgres", password: "pg-super-Secret-1" },
          replication: { username: "replicator", password: "repl-Secret-2" },
        },
      },
      restapi_secret: "rest-Secret-3",
      dsn: "postgres://app:dsn-Secret-4@n1:5432/app",
    },
    members: [
      { name: "n1", kind: "postgres", address: "10.88.0.11" },
      { name: "n2", kind: "postgres", address: "10.88.0.12" },
      { name: "n3", kind: "postgres", address: "10.88.0.13" },
      { name: "e1", kind: "dcs", address: "10.88.0.21" },
      { name: "e2", kind: "dcs", address: "10.88.0.22" },
      { name: "e3", kind: "dcs", address: "10.88.0.23" },
    ],
    history: ops,
    reads: [],
    timeline: timeline(),
    final: {
      primary: "n2",
      ids: ops.filter((op) => op.outcome === "ok" && !lost.has(op.id)).map((op) => op.id),
      nodes: [
        { member: "n1", role: "replica", timeline: 2, lsn: "0/6A00148" },
        { member: "n2", role: "primary", timeline: 2, lsn: "0/6A00148" },
        { member: "n3", role: "replica", timeline: 2, lsn: "0/6A00148" },
      ],
    },
    entrypoints: ["direct"],
    expect: { rto_s: "<= 30", lost_writes: 0, split_brain: false, promotions: 1 },
    problems: ["replica n3 did not report its lag within 5 s after the heal"],
    seed: 1,
    plan: null,
    concurrency: 1,
    harness: null,
  };
}

export function fixtureVerification(record: RunRecord): Verification {
  const count = (outcome: WriteOperation["outcome"]) =>
    record.history.filter((op) => op.outcome === outcome).length;
  return {
    verdict: "fail",
    figures: {
      ...nameServiceFigures(null),
      rto_s: 5.504,
      max_write_gap_s: 5.6,
      lost_writes: 2,
      unknown_writes: count("unknown"),
      acknowledged_writes: count("ok"),
      failed_writes: count("fail"),
      wal_loss_bytes: 368,
      promotions: 1,
      split_brain: false,
      split_brain_window_s: 0,
      diverged: false,
      ...NO_READ_FIGURES,
      write_blocked_s: 4.1,
      old_primary_rejoin_s: 9.7,
      groups: {
        direct: {
          rto_s: 5.504,
          max_write_gap_s: 5.6,
          acknowledged_writes: count("ok"),
          failed_writes: count("fail"),
          unknown_writes: count("unknown"),
          lost_writes: 2,
        },
      },
    },
    expectations: [
      { key: "rto_s", expected: "<= 30", actual: "5.50", pass: true },
      { key: "lost_writes", expected: "0", actual: "2", pass: false },
      { key: "split_brain", expected: "false", actual: "false", pass: true },
      { key: "promotions", expected: "1", actual: "1", pass: true },
    ],
    lost_write_ids: [24, 25],
    unknown_write_ids: [26],
    unknown_found_ids: [],
    promotions: [
      {
        at_ns: s(8.2),
        member: "n2",
        timeline: 2,
        parent: 1,
        fork_lsn: "0/5030E50",
        fork_source: "timeline history",
        ha_fork_lsn: "0/5030E50",
        source: "patroni /history",
        unrecorded: null,
      },
    ],
    wal_loss: [
      {
        member: "n2",
        timeline: 2,
        kind: "past-fork",
        measured_timeline: 1,
        fork_lsn: "0/5030E50",
        max_acked_lsn: "0/5030FC0",
        loss_bytes: 368,
        unknown: null,
      },
    ],
    divergence: null,
    explanation: null,
    unknown: {
      stale_reads: "no readers in this run",
      max_staleness_s: "no readers in this run",
      lost_data_reads: "no readers in this run",
      non_monotonic_reads: "no readers in this run",
      stale_name_writes: "no dns entry point in this run",
      stale_name_refused_writes: "no dns entry point in this run",
    },
    paths: [{ path: "direct", rto_s: 5.504, bound_s: 40 }],
    split_brain: { detected: false, window_s: 0, evidence: [], intervals: [] },
    dual_primary: { seconds: 0, evidence: [], intervals: [] },
    reads: checkReads(record.history, record.reads, record.final.ids),
    transactions: null,
    name_service: null,
    rto_per_fault: [
      {
        fault: "kill",
        target: "primary",
        at_ns: s(3),
        outage_start_ns: s(3),
        rto_s: 5.504,
        phases: {
          detection_s: 4.9,
          election_s: 0.3,
          reconnection_s: 0.304,
          until_promotion_s: 5.2,
          reconnection_per_entrypoint: { direct: 0.304 },
          reaction: { at_ns: s(7.9), member: "n2", text: "acquired session lock as a leader" },
          promotion: { at_ns: s(8.2), member: "n2", source: "patroni /history" },
        },
      },
    ],
    rto_bound: {
      bound_s: 40,
      parts: [
        { name: "ttl", s: 30, phase: "detection" },
        { name: "loop_wait", s: 10, phase: "detection" },
      ],
      share_s: { detection: 40, election: 0, reconnection: 0 },
      formula: "ttl + loop_wait",
      note: null,
    },
    outages: [
      { group: "direct", fault: "kill", target: "primary", at_ns: s(3), start_ns: s(3), end_ns: s(8.504) },
    ],
    problems: [],
  };
}

/** A fresh report each call, so tests may mutate theirs. */
export function fixtureReport(): RunReport {
  const record = fixtureRecord();
  return { record, verification: fixtureVerification(record) };
}

/**
 * The same run ended split: n1 came back writable beside n2 (as repmgr leaves an unfenced old
 * primary), the promotion was seen only by the role samples and without a fork LSN, so the WAL
 * loss is unknown; clients also wrote through a dns name re-pointed late, held to its own bound.
 */
export function splitFixtureReport(): RunReport {
  const record = fixtureRecord();
  const ok = record.history.filter((op) => op.outcome === "ok");
  const onN1 = ok.filter((op) => op.node === "n1").map((op) => op.id);
  const onN2 = ok.filter((op) => op.node === "n2").map((op) => op.id);
  // n2 forked off before n1's last two acknowledged writes reached it.
  const lost = [24, 25];
  const onN2Side = ok.filter((op) => !lost.includes(op.id)).map((op) => op.id);
  record.timeline = record.timeline.filter((e) => e.kind !== "promotion" && e.kind !== "ha");
  record.timeline.push({
    at_ns: s(20.4),
    kind: "ha",
    source: "repmgr",
    member: "n1",
    text: "node n1 is running as primary",
  });
  record.final = {
    primary: "n2",
    ids: onN2Side,
    nodes: [
      { member: "n1", role: "primary", timeline: 1, lsn: "0/5030578" },
      { member: "n2", role: "primary", timeline: 2, lsn: "0/6A00148" },
      { member: "n3", role: "replica", timeline: 2, lsn: "0/6A00148" },
    ],
    sides: [
      { member: "n2", ids: onN2Side },
      { member: "n1", ids: onN1 },
    ],
  };
  const verification = fixtureVerification(record);
  const why = "the promotion of n2 to timeline 2 has no fork LSN";
  verification.figures = {
    ...verification.figures,
    lost_writes: lost.length,
    wal_loss_bytes: null,
    diverged: true,
  };
  verification.unknown = { ...verification.unknown, wal_loss_bytes: why };
  verification.promotions = [
    {
      at_ns: s(8.25),
      member: "n2",
      timeline: 2,
      parent: 1,
      fork_lsn: null,
      fork_source: null,
      ha_fork_lsn: null,
      source: "role samples",
      unrecorded: "repmgr recorded no promotion in this run",
    },
  ];
  verification.wal_loss = [
    {
      member: "n2",
      timeline: 2,
      kind: "past-fork",
      measured_timeline: 1,
      fork_lsn: null,
      max_acked_lsn: "0/5030578",
      loss_bytes: null,
      unknown: why,
    },
  ];
  verification.divergence = {
    members: ["n2", "n1"],
    sides: [
      {
        member: "n2",
        ha_primary: true,
        timeline: 2,
        lsn: "0/6A00148",
        missing_ids: lost,
        missing_by_group: { direct: lost.length },
      },
      {
        member: "n1",
        ha_primary: false,
        timeline: 1,
        lsn: "0/5030578",
        missing_ids: onN2,
        missing_by_group: { direct: onN2.length },
      },
    ],
  };
  verification.explanation = {
    text: `The run ended split: n2 and n1 were both writable; n1's timeline 1 (${lost.length} acknowledged writes) are missing from the final primary n2`,
    evidence: [
      { at_ns: s(3), text: "inject kill on n1" },
      { at_ns: s(20), text: "heal kill on n1" },
      { at_ns: s(20.4), text: "n1: node n1 is running as primary" },
    ],
  };
  verification.paths = [
    { path: "direct", rto_s: 5.504, bound_s: 40 },
    { path: "dns", rto_s: 45.95, bound_s: 65 },
  ];
  verification.expectations.push({
    key: "diverged",
    expected: "false (unless expected)",
    actual: "n2 and n1 were both writable at the end",
    pass: false,
  });
  return { record, verification };
}
