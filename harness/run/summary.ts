/**
 * The plan's outcome from its runs' results: per group (a scenario × topology × sweep point), the
 * statistics over its repeats and the expectations written over them; then one verdict.
 */
import type { PlanFile } from "../model/plan.ts";
import type { GroupSummary, PlanSummary, RunResult } from "../report/reporter.ts";
import { evaluateAggregates, groupStatistics } from "../verify/aggregate.ts";

/**
 * `scope`: the runs this invocation was to produce (a shard's, --only's; all of them for a merge).
 * Groups outside it are left out, and only its runs can be missing.
 */
export function summarizePlan(
  plan: PlanFile,
  results: RunResult[],
  scope: readonly string[] = plan.runs.map((run) => run.key),
  interrupted = false,
): PlanSummary {
  const byKey = new Map(results.map((r) => [r.run.key, r]));
  const inScope = new Set(scope);
  const groups = plan.groups.flatMap((group): GroupSummary[] => {
    const planned = plan.runs.filter((run) => run.group === group.group && inScope.has(run.key));
    if (planned.length === 0) return [];
    const done = planned.flatMap((run) => byKey.get(run.key) ?? []);
    const missing = planned.filter((run) => !byKey.has(run.key));
    const statistics = groupStatistics(done.map((r) => r.report.verification));
    const expectations = evaluateAggregates(group.expect, statistics);
    // A certification is judged by its thresholds alone (failed_runs among them by default);
    // a plain plan also fails on any failed run.
    const runsHold = plan.suite !== null || statistics.failed === 0;
    const verdict = missing.length === 0 && runsHold && expectations.every((e) => e.pass) ? "pass" : "fail";
    return [{ ...group, results: done, missing, statistics, expectations, verdict }];
  });
  const missing = groups.flatMap((g) => g.missing);
  return {
    plan,
    groups,
    results: plan.runs.flatMap((run) => (inScope.has(run.key) ? (byKey.get(run.key) ?? []) : [])),
    missing,
    verdict: groups.every((g) => g.verdict === "pass") ? "pass" : "fail",
    interrupted,
  };
}
