/**
 * Runs a plan: the selected runs, `workers` at a time, each run's outcome fanned out to every
 * reporter as it ends. A run that fails or crashes becomes a failed result with its reason; only
 * bad input or environment (exit 2) and Ctrl-C stop the plan, and both tear down what is running.
 */
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { ClusterFile } from "../attach/cluster-file.ts";
import { UsageError } from "../common/errors.ts";
import type { PlanFile, PlanFileRun, SuiteInfo } from "../model/plan.ts";
import type { Shard } from "../model/plan.ts";
import type { PlanPosition, RunRecord } from "../model/record.ts";
import { loadRunReport } from "../report/load.ts";
import { type PlanReporter, type RunReport, fanOut } from "../report/reporter.ts";
import type { PlanSummary, RunResult } from "../report/reporter.ts";
import { haRulesOf } from "../topology/index.ts";
import { verify } from "../verify/index.ts";
import { readPlanFile, toPlanFile, writePlanFile } from "./plan-file.ts";
import type { Plan, PlannedRun } from "./plan.ts";
import { firstProblem, preflight } from "./preflight.ts";
import { RunAborted, newRunId, runScenario } from "./runner.ts";
import { summarizePlan } from "./summary.ts";

export interface ExecuteOptions {
  /** Absolute --out directory. */
  out: string;
  runs: PlannedRun[];
  workers: number;
  keep: boolean;
  /** Reuse the results already in `out` (an interrupted plan's) and run only the missing ones. */
  resume: boolean;
  shard: Shard | null;
  suite: SuiteInfo | null;
  reporters: PlanReporter[];
  /** --cluster: every run attaches to this cluster over SSH. */
  cluster?: ClusterFile | null;
}

export interface Execution {
  summary: PlanSummary;
  /** The signal that interrupted the plan, if one did. */
  signal: NodeJS.Signals | null;
}

export async function executePlan(plan: Plan, options: ExecuteOptions): Promise<Execution> {
  await checkEnvironment(options.runs);
  mkdirSync(options.out, { recursive: true });
  const planFile = toPlanFile(plan, options.shard, options.suite);
  if (options.resume) checkResumable(options.out, planFile);
  writePlanFile(options.out, planFile);

  const reporter = fanOut(options.reporters);
  const fileRuns = new Map(planFile.runs.map((run) => [run.key, run]));
  const scope = options.runs.map((run) => fileRuns.get(run.key)).filter((run) => run !== undefined);
  await reporter.onPlanBegin({ plan: planFile, runs: scope, out: options.out, workers: options.workers });

  const controller = new AbortController();
  const active = new Set<PlanFileRun>();
  let signal: NodeJS.Signals | null = null;
  const onSignal = (received: NodeJS.Signals) => {
    if (signal !== null) return; // a second Ctrl-C must not cut the teardown short
    signal = received;
    for (const run of active) reporter.onRunLine(run, `${received}: tearing down`);
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const results: RunResult[] = [];
  let fatal: unknown = null;
  const queue = [...options.runs];
  const concurrency = Math.min(options.workers, options.runs.length);
  const worker = async () => {
    for (let run = queue.shift(); run !== undefined; run = queue.shift()) {
      if (controller.signal.aborted) return;
      const fileRun = fileRuns.get(run.key);
      if (!fileRun) continue;
      const dir = join(options.out, run.dir);
      if (options.resume && existsSync(join(dir, "result.json"))) {
        const result = { run: fileRun, report: await loadRunReport(dir), dir, reused: true };
        results.push(result);
        await reporter.onRunEnd(result);
        continue;
      }
      const runId = newRunId();
      reporter.onRunBegin(fileRun, runId);
      active.add(fileRun);
      // A directory left by an earlier plan with the same key is this run's: start it afresh.
      rmSync(dir, { recursive: true, force: true });
      const report = await attempt(run, runId, planFile, dir, {
        signal: controller.signal,
        concurrency,
        keep: options.keep,
        cluster: options.cluster ?? null,
        progress: (line) => reporter.onRunLine(fileRun, line),
      }).catch((error: unknown) => {
        fatal ??= error;
        controller.abort();
        return null;
      });
      active.delete(fileRun);
      if (report === null) continue;
      const result = { run: fileRun, report, dir, reused: false };
      results.push(result);
      await reporter.onRunEnd(result);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  if (fatal !== null) throw fatal;
  const summary = summarizePlan(
    planFile,
    results,
    scope.map((run) => run.key),
    signal !== null,
  );
  await reporter.onPlanEnd(summary);
  if (reporter.errors.length > 0) {
    throw new AggregateError(reporter.errors, `${reporter.errors.length} reporter(s) failed`);
  }
  return { summary, signal };
}

/**
 * One run, whatever happens: its report, a failed one when the run crashed. Throws only for bad
 * input or environment (UsageError, which should stop the plan) and when the plan was interrupted.
 */
async function attempt(
  run: PlannedRun,
  runId: string,
  plan: PlanFile,
  dir: string,
  context: {
    signal: AbortSignal;
    concurrency: number;
    keep: boolean;
    cluster: ClusterFile | null;
    progress: (line: string) => void;
  },
): Promise<RunReport | null> {
  const startedAt = new Date();
  let record: RunRecord;
  try {
    record = await runScenario(run.scenario, runId, {
      topology: run.topology,
      backend: run.backend,
      keep: context.keep,
      logsDir: join(dir, "logs"),
      progress: context.progress,
      seed: run.seed,
      signal: context.signal,
      concurrency: context.concurrency,
      plan: position(run, plan),
      cluster: context.cluster,
    });
  } catch (error) {
    if (error instanceof UsageError) throw error;
    // Interrupted: no result, so --resume runs it again.
    if (error instanceof RunAborted && context.signal.aborted) return null;
    const reason = error instanceof Error ? error.message : String(error);
    context.progress(`run crashed: ${reason}`);
    record = crashedRecord(run, runId, plan, startedAt, reason, context.concurrency);
  }
  return {
    record,
    verification: verify(record, haRulesOf(record.topology)),
    scenarioSource: run.scenario.source,
    scenarioDescription: run.scenario.description,
  };
}

function position(run: PlannedRun, plan: PlanFile): PlanPosition {
  return {
    key: run.key,
    group: run.group,
    plan_id: plan.plan_id,
    plan_seed: plan.seed,
    repeat: run.repeat,
    point: run.point,
  };
}

/** A run that could not be made still has a result: failed, with the reason, and nothing measured. */
function crashedRecord(
  run: PlannedRun,
  runId: string,
  plan: PlanFile,
  startedAt: Date,
  reason: string,
  concurrency: number,
): RunRecord {
  return {
    run_id: runId,
    scenario: run.scenario.name,
    topology: run.topology,
    backend: run.backend.kind,
    stack: {
      name: run.backend.kind === "ssh" ? "attached" : (run.backend.image ?? run.backend.stack),
      postgresBin: "",
      image:
        run.backend.kind === "docker" || run.backend.kind === "kubernetes"
          ? { name: run.backend.image ?? `pgchaos/node:${run.backend.stack}`, id: "" }
          : null,
    },
    started_at: startedAt.toISOString(),
    duration_s: Number(((Date.now() - startedAt.getTime()) / 1000).toFixed(3)),
    versions: {},
    settings: {},
    members: [],
    history: [],
    reads: [],
    timeline: [],
    final: { primary: null, ids: null, nodes: [] },
    entrypoints: run.scenario.entrypoints,
    expect: run.scenario.expect,
    problems: [`run crashed: ${reason}`],
    seed: run.seed,
    plan: position(run, plan),
    concurrency,
    harness: null,
  };
}

/** Every backend × topology × entry point the runs need is installed, before the first cluster starts. */
async function checkEnvironment(runs: PlannedRun[]): Promise<void> {
  const needs = new Map<string, { kind: PlannedRun["backend"]["kind"]; components: string[] }>();
  for (const run of runs) {
    const components = [run.topology, ...run.scenario.entrypoints];
    needs.set(`${run.backend.kind}:${components.join(",")}`, { kind: run.backend.kind, components });
  }
  for (const { kind, components } of needs.values()) {
    const missing = firstProblem(await preflight(kind, components));
    if (missing) throw new UsageError(missing);
  }
}

function checkResumable(out: string, planned: PlanFile): void {
  const existing = readPlanFile(out);
  if (existing === null) {
    throw new UsageError(`--resume: ${out} holds no plan.json to resume; run without --resume`);
  }
  if (existing.plan_id !== planned.plan_id) {
    throw new UsageError(
      `--resume: the plan in ${out} (${existing.plan_id}, seed ${existing.seed}) is not this command's (${planned.plan_id}); resume with the same scenarios, flags and --seed ${existing.seed}`,
    );
  }
}
