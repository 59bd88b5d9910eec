/**
 * `pgchaos merge <dirs…>`: shards of one plan (each a --out directory with its plan.json) joined
 * into one directory and one summary, as if one machine had run the whole plan.
 */
import { cpSync, existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { UsageError } from "../common/errors.ts";
import type { PlanFile } from "../model/plan.ts";
import { loadRunReport } from "../report/load.ts";
import { type PlanReporter, fanOut } from "../report/reporter.ts";
import type { PlanSummary, RunResult } from "../report/reporter.ts";
import { readPlanFile, writePlanFile } from "./plan-file.ts";
import { summarizePlan } from "./summary.ts";

export async function mergeShards(
  dirs: string[],
  out: string,
  reporters: PlanReporter[],
): Promise<PlanSummary> {
  if (dirs.length === 0) throw new UsageError("merge: name the shards' --out directories");
  const shards = dirs.map((dir) => {
    const plan = readPlanFile(dir);
    if (plan === null)
      throw new UsageError(`merge: ${dir} holds no plan.json (is it a pgchaos --out directory?)`);
    return { dir: resolve(dir), plan };
  });
  const [first] = shards;
  if (!first) throw new UsageError("merge: nothing to merge");
  const other = shards.find((s) => s.plan.plan_id !== first.plan.plan_id);
  if (other) {
    throw new UsageError(
      `merge: ${other.dir} is plan ${other.plan.plan_id}, ${first.dir} is plan ${first.plan.plan_id}: only shards of one plan merge`,
    );
  }
  const target = resolve(out);
  if (shards.some((s) => s.dir === target))
    throw new UsageError(`merge: --out ${out} must not be one of the shards`);
  mkdirSync(target, { recursive: true });
  const plan: PlanFile = { ...first.plan, shard: null };
  writePlanFile(target, plan);
  const reporter = fanOut(reporters);
  await reporter.onPlanBegin({ plan, runs: plan.runs, out: target, workers: 1 });
  const results: RunResult[] = [];
  for (const run of plan.runs) {
    // A run done twice (overlapping shards) counts once: the first shard listed wins.
    const from = shards.find((s) => existsSync(join(s.dir, run.dir, "result.json")));
    if (!from) continue;
    const dir = join(target, run.dir);
    cpSync(join(from.dir, run.dir), dir, { recursive: true });
    const result = { run, report: await loadRunReport(dir), dir, reused: true };
    results.push(result);
    await reporter.onRunEnd(result);
  }
  const summary = summarizePlan(plan, results);
  await reporter.onPlanEnd(summary);
  if (reporter.errors.length > 0)
    throw new AggregateError(reporter.errors, `${reporter.errors.length} reporter(s) failed`);
  return summary;
}
