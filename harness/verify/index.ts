/** verify: turns what a run observed into figures, promises kept or broken, and a verdict. */

import type { RunRecord } from "../run/record.ts";
import { isAggregateKey } from "./aggregate.ts";
import { expectedRtoBound } from "./bound.ts";
import { evaluateExpectation, parseExpectation } from "./expectations.ts";
import type { ClientFigures, DualPrimary, ExpectationResult, Figures, Verification } from "./figures.ts";
import { countOutcome, groupFigures } from "./groups.ts";
import { type ListAppendCheck, checkListAppend } from "./list-append.ts";
import { checkLostWrites } from "./lost-writes.ts";
import { checkNameService, nameServiceFigures } from "./name-service.ts";
import { rtoPhases } from "./phases.ts";
import { derivePromotions } from "./promotions.ts";
import { type ReadCheck, checkReads, distinctReads } from "./reads.ts";
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

/** The client figures from their checks; a result loaded without them derives them the same way. */
export function clientFigures(
  dualPrimary: DualPrimary,
  reads: ReadCheck,
  transactions: ListAppendCheck | null,
): ClientFigures {
  return {
    dual_primary_s: dualPrimary.seconds,
    reads: reads.ok_reads,
    stale_reads: reads.stale.length,
    max_staleness_s: reads.max_staleness_s ?? 0,
    lost_data_reads: distinctReads(reads.lost_data),
    non_monotonic_reads: reads.non_monotonic.length,
    replica_staleness_s: reads.replica_staleness_s,
    replica_lag_bytes: reads.replica_lag_bytes,
    transactions: transactions?.committed ?? null,
    txn_anomalies: transactions?.anomalies.length ?? null,
  };
}

/**
 * Pure: the same record always yields the same verification. The verdict passes only when every
 * expectation holds and nothing, in the run or in these checks, went unverified.
 */
export function verify(record: RunRecord): Verification {
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
  const promotions = derivePromotions(record.timeline);
  const walLoss = measureWalLoss(promotions, record.history);
  const splitBrain = detectSplitBrain(record.history, record.timeline);
  const dualPrimary = detectDualPrimary(record.timeline);
  const reads = checkReads(record.history, record.reads, record.final.ids);
  const transactions = record.history.some((op) => op.txn !== undefined)
    ? checkListAppend(record.history)
    : null;
  const outages = mergeOutages(paths.map((p) => p.outages));
  const phases = rtoPhases(record.topology, record.timeline, perFault, outages, promotions);
  const rtoBound = expectedRtoBound(record.topology, record.settings, record.versions);
  const nameService = record.name_service
    ? checkNameService(record.name_service, promotions, record.history, record.timeline)
    : null;

  const figures: Figures = {
    rto_s: worstRto(perFault),
    max_write_gap_s: gaps.length > 0 ? Math.max(...gaps) : null,
    lost_writes: lostWrites.lost_ids.length,
    unknown_writes: countOutcome(record.history, "unknown"),
    acknowledged_writes: countOutcome(record.history, "ok"),
    failed_writes: countOutcome(record.history, "fail"),
    wal_loss_bytes: walLoss.wal_loss_bytes,
    promotions: promotions.length,
    split_brain: splitBrain.detected,
    split_brain_window_s: splitBrain.window_s,
    ...clientFigures(dualPrimary, reads, transactions),
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
    ...reads.problems,
  ];

  // A malformed promise fails its own line (and the verdict) instead of aborting the whole report.
  // Expectations over repeats (rto_p95, lost_writes_runs) are the plan's to judge, not one run's.
  const own = Object.entries(record.expect).filter(([key]) => !isAggregateKey(key));
  const expectations: ExpectationResult[] = own.map(([key, raw]) => {
    try {
      return evaluateExpectation(parseExpectation(key, raw), figures, { rto_bound: rtoBound });
    } catch (error) {
      ownProblems.push(error instanceof Error ? error.message : String(error));
      return { key, expected: String(raw), actual: "invalid expectation", pass: false };
    }
  });

  const problems = [...record.problems, ...ownProblems];
  const verdict = problems.length === 0 && expectations.every((result) => result.pass) ? "pass" : "fail";

  return {
    verdict,
    figures,
    expectations,
    lost_write_ids: lostWrites.lost_ids,
    unknown_write_ids: lostWrites.unknown_ids,
    unknown_found_ids: lostWrites.unknown_found_ids,
    promotions,
    split_brain: splitBrain,
    dual_primary: dualPrimary,
    reads,
    transactions,
    name_service: nameService,
    rto_per_fault: perFault.map((fault, index) => ({ ...fault, phases: phases[index] ?? null })),
    rto_bound: rtoBound,
    outages,
    problems,
  };
}
