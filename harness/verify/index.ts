/** verify: turns what a run observed into figures, promises kept or broken, and a verdict. */

import type { ListAppendCheck, ReadCheck, RtoBound } from "../model/figures.ts";
import type {
  ClientFigures,
  DualPrimary,
  ExpectationResult,
  Figures,
  PathRto,
  ScalarFigureKey,
  Verification,
} from "../model/figures.ts";
import type { RunRecord } from "../model/record.ts";
import { ancestry } from "../observe/timeline-history.ts";
import { isAggregateKey } from "./aggregate.ts";
import { type HaRules, expectedRtoBound } from "./bound.ts";
import { checkDivergence, describeDivergence } from "./divergence.ts";
import { evaluateExpectation, parseExpectation } from "./expectations.ts";
import { explainLoss } from "./explain.ts";
import { countOutcome, groupFigures } from "./groups.ts";
import { checkListAppend } from "./list-append.ts";
import { checkLostWrites } from "./lost-writes.ts";
import { checkNameService, nameServiceFigures } from "./name-service.ts";
import { rtoPhases } from "./phases.ts";
import { derivePromotions, forkDisagreements } from "./promotions.ts";
import { checkReads, distinctReads } from "./reads.ts";
import { oldPrimaryRejoin, writeBlocked } from "./rejoin.ts";
import {
  maxWriteGap,
  mergeOutages,
  outagesPerFault,
  rtoPerFault,
  unrecoveredFaultProblems,
  worstPerFault,
  worstRto,
} from "./rto.ts";
import { detectDualPrimary, detectSplitBrain } from "./split-brain.ts";
import { measureWalLoss } from "./wal-loss.ts";

/**
 * The client figures from their checks; a result loaded without them derives them the same way.
 * Without an answered read, what readers saw is unknown, not zero; reads of lost data also need
 * the final state.
 */
export function clientFigures(
  dualPrimary: DualPrimary,
  reads: ReadCheck,
  transactions: ListAppendCheck | null,
  finalRead = true,
): ClientFigures {
  const answered = reads.ok_reads > 0;
  return {
    dual_primary_s: dualPrimary.seconds,
    reads: reads.ok_reads,
    stale_reads: answered ? reads.stale.length : null,
    max_staleness_s: answered ? (reads.max_staleness_s ?? 0) : null,
    lost_data_reads: answered && finalRead ? distinctReads(reads.lost_data) : null,
    non_monotonic_reads: answered ? reads.non_monotonic.length : null,
    replica_staleness_s: reads.replica_staleness_s,
    replica_lag_bytes: reads.replica_lag_bytes,
    transactions: transactions?.committed ?? null,
    txn_anomalies: transactions?.anomalies.length ?? null,
  };
}

/**
 * Pure: the same record always yields the same verification. The verdict passes only when every
 * expectation holds and nothing, in the run or in these checks, went unverified. `rules` are the
 * record's HA manager's (topology/index.ts haRulesOf); null for one this version does not know:
 * then no bound and no reactions.
 */
export function verify(record: RunRecord, rules: HaRules | null): Verification {
  // RTO and write gap are per client path (entry point), the run's figure the worst of them.
  const paths = record.entrypoints.map((path) => {
    const ops = record.history.filter((op) => op.group === path);
    return {
      path,
      perFault: rtoPerFault(ops, record.timeline),
      outages: outagesPerFault(path, ops, record.timeline),
      gap: maxWriteGap(ops),
    };
  });
  const perFault = worstPerFault(paths.map((p) => p.perFault));
  const gaps = paths.map((p) => p.gap).filter((gap): gap is number => gap !== null);
  const lostWrites = checkLostWrites(record.history, record.final.ids);
  const promotions = derivePromotions(record.timeline, record);
  const finalHistory = record.final.histories?.find((h) => h.member === record.final.primary);
  const walLoss = measureWalLoss(
    promotions,
    record.history,
    finalHistory ? ancestry(finalHistory.timeline, finalHistory.forks) : null,
  );
  const divergence = checkDivergence(record.history, record.final);
  const splitBrain = detectSplitBrain(record.history, record.timeline);
  const dualPrimary = detectDualPrimary(record.timeline);
  const reads = checkReads(record.history, record.reads, record.final.ids);
  const transactions = record.history.some((op) => op.txn !== undefined)
    ? checkListAppend(record.history)
    : null;
  const outages = mergeOutages(paths.map((p) => p.outages));
  const phases = rtoPhases(
    record.topology,
    rules?.reactions ?? [],
    record.timeline,
    perFault,
    outages,
    promotions,
  );
  const rtoBound = expectedRtoBound(rules, record.settings, record.versions);
  const pathRtos: PathRto[] = paths.map((p) => ({
    path: p.path,
    rto_s: worstRto(p.perFault),
    bound_s: pathBound(p.path, rtoBound, record.name_service),
  }));
  const nameService = record.name_service
    ? checkNameService(record.name_service, promotions, record.history, record.timeline)
    : null;

  const figures: Figures = {
    rto_s: worstRto(perFault),
    max_write_gap_s: gaps.length > 0 ? Math.max(...gaps) : null,
    lost_writes: lostWrites.lost_ids?.length ?? null,
    unknown_writes: countOutcome(record.history, "unknown"),
    acknowledged_writes: countOutcome(record.history, "ok"),
    failed_writes: countOutcome(record.history, "fail"),
    wal_loss_bytes: walLoss.wal_loss_bytes,
    promotions: promotions.length,
    split_brain: splitBrain.detected,
    split_brain_window_s: splitBrain.window_s,
    diverged: divergence !== null,
    ...clientFigures(dualPrimary, reads, transactions, record.final.ids !== null),
    write_blocked_s: writeBlocked(record.history),
    old_primary_rejoin_s: oldPrimaryRejoin(record.timeline),
    ...nameServiceFigures(nameService),
    groups: groupFigures(record.history, record.timeline, lostWrites.lost_ids),
  };

  const named = paths.length > 1;
  const ownProblems = [
    ...paths.flatMap((p) => unrecoveredFaultProblems(p.perFault, named ? p.path : undefined)),
    ...lostWrites.problems,
    ...walLoss.problems,
    ...forkDisagreements(promotions),
    ...reads.problems,
  ];

  // A malformed promise fails its own line (and the verdict) instead of aborting the whole report.
  // Expectations over repeats (rto_p95, lost_writes_runs) are the plan's to judge, not one run's.
  const own = Object.entries(record.expect).filter(([key]) => !isAggregateKey(key));
  const unknown = unknownReasons(figures, record.reads.length > 0, walLoss.unknown);
  const expectations: ExpectationResult[] = own.map(([key, raw]) => {
    try {
      return evaluateExpectation(parseExpectation(key, raw), figures, {
        rto_bound: rtoBound,
        unknown,
        paths: pathRtos,
      });
    } catch (error) {
      ownProblems.push(error instanceof Error ? error.message : String(error));
      return { key, expected: String(raw), actual: "invalid expectation", pass: false };
    }
  });
  // Two writable nodes at the end fail the run unless the scenario says it expects them.
  if (divergence !== null && !Object.hasOwn(record.expect, "diverged")) {
    expectations.push({
      key: "diverged",
      expected: "false (unless expected)",
      actual: describeDivergence(divergence),
      pass: false,
    });
  }

  const problems = [...record.problems, ...ownProblems];
  const verdict = problems.length === 0 && expectations.every((result) => result.pass) ? "pass" : "fail";

  return {
    verdict,
    figures,
    expectations,
    unknown,
    lost_write_ids: lostWrites.lost_ids ?? [],
    unknown_write_ids: lostWrites.unknown_ids,
    unknown_found_ids: lostWrites.unknown_found_ids,
    promotions,
    wal_loss: walLoss.per_promotion,
    divergence,
    explanation: explainLoss(record, lostWrites.lost_ids, promotions, divergence),
    split_brain: splitBrain,
    dual_primary: dualPrimary,
    reads,
    transactions,
    name_service: nameService,
    rto_per_fault: perFault.map((fault, index) => ({ ...fault, phases: phases[index] ?? null })),
    rto_bound: rtoBound,
    paths: pathRtos,
    outages,
    problems,
  };
}

/**
 * Why each figure that came out null was not measured; null figures not listed are "none" by
 * nature (an RTO that never recovered). `readers`: the run had readers at all.
 */
export function unknownReasons(
  figures: Figures,
  readers: boolean,
  walLossUnknown: string | null,
): Partial<Record<ScalarFigureKey, string>> {
  const reasons: Partial<Record<ScalarFigureKey, string>> = {};
  const finalUnread = "the final primary could not be read";
  if (figures.lost_writes === null) reasons.lost_writes = finalUnread;
  if (figures.wal_loss_bytes === null) reasons.wal_loss_bytes = walLossUnknown ?? "not measured";
  const noReads = readers ? "no read was answered" : "no readers in this run";
  for (const key of ["stale_reads", "max_staleness_s", "non_monotonic_reads"] as const) {
    if (figures[key] === null) reasons[key] = noReads;
  }
  if (figures.lost_data_reads === null) {
    reasons.lost_data_reads = figures.stale_reads === null ? noReads : finalUnread;
  }
  for (const key of ["stale_name_writes", "stale_name_refused_writes"] as const) {
    if (figures[key] === null) reasons[key] = "no dns entry point in this run";
  }
  return reasons;
}

/**
 * What a path is held to: clients by name wait, beyond the failover, for the poller's next look
 * and for resolvers to drop the old answer (interval + TTL); every other path, the HA bound.
 */
function pathBound(path: string, bound: RtoBound | null, names: RunRecord["name_service"]): number | null {
  if (bound === null) return null;
  if (names?.groups.includes(path)) return bound.bound_s + names.interval_s + names.ttl_s;
  return bound.bound_s;
}
