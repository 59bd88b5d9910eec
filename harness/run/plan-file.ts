/**
 * plan.json in the --out directory: the plan as planned, so `--resume` can tell which runs are
 * missing and `pgchaos merge` can join shards into the one plan they came from — without the
 * scenario files (a CI job that merges may not have the checkout the shards ran).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../common/errors.ts";
import type { PlanFile, PlanFileGroup, Shard, SuiteInfo } from "../model/plan.ts";
import { isAggregateKey } from "../verify/aggregate.ts";
import type { Plan } from "./plan.ts";

export const PLAN_FILE = "plan.json";

export function toPlanFile(plan: Plan, shard: Shard | null, suite: SuiteInfo | null): PlanFile {
  const groups = new Map<string, PlanFileGroup>();
  for (const run of plan.runs) {
    if (groups.has(run.group)) continue;
    const own = Object.fromEntries(
      Object.entries(run.scenario.expect).filter(([key]) => isAggregateKey(key)),
    );
    groups.set(run.group, {
      group: run.group,
      scenario: run.scenario.name,
      topology: run.topology,
      point: run.point,
      expect: { ...own, ...(suite?.thresholds ?? {}) },
    });
  }
  return {
    plan_id: plan.id,
    seed: plan.seed,
    repeat: plan.repeat,
    shard,
    suite,
    runs: plan.runs.map((run) => ({
      key: run.key,
      group: run.group,
      dir: run.dir,
      scenario: run.scenario.name,
      topology: run.topology,
      backend: run.backend.kind,
      stack: run.backend.stack,
      image: run.backend.image,
      point: run.point,
      repeat: run.repeat,
      seed: run.seed,
    })),
    groups: [...groups.values()],
  };
}

export function writePlanFile(out: string, file: PlanFile): void {
  writeFileSync(join(out, PLAN_FILE), `${JSON.stringify(file, null, 2)}\n`);
}

/** null when the directory holds no plan. */
export function readPlanFile(out: string): PlanFile | null {
  let text: string;
  try {
    text = readFileSync(join(out, PLAN_FILE), "utf8");
  } catch {
    return null;
  }
  try {
    return JSON.parse(text) as PlanFile;
  } catch (error) {
    throw new UsageError(`${join(out, PLAN_FILE)}: not valid JSON (${(error as Error).message})`);
  }
}
