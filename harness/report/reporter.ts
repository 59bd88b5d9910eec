import type { ExpectationResult, Verification } from "../model/figures.ts";
import type { PlanFile, PlanFileGroup, PlanFileRun } from "../model/plan.ts";
import type { RunRecord } from "../model/record.ts";
import type { GroupStatistics } from "../verify/aggregate.ts";

/** The one result every reporter renders: what the run observed and what verify made of it. */
export interface RunReport {
  record: RunRecord;
  verification: Verification;
  /** The scenario file as written; the CLI knows it, the RunRecord does not. Masked before display. */
  scenarioSource?: string;
  /** The scenario's one-line `description:`, shown under its name. */
  scenarioDescription?: string;
}

/** One planned run's outcome: its report and where its files are. */
export interface RunResult {
  run: PlanFileRun;
  report: RunReport;
  /** Absolute path of the run's directory. */
  dir: string;
  /** Loaded from an earlier invocation's files (--resume, merge) rather than run now. */
  reused: boolean;
}

export interface GroupSummary extends PlanFileGroup {
  results: RunResult[];
  /** Planned runs of this group with no result (another shard's, or an interrupted plan's). */
  missing: PlanFileRun[];
  statistics: GroupStatistics;
  expectations: ExpectationResult[];
  verdict: "pass" | "fail";
}

export interface PlanSummary {
  plan: PlanFile;
  groups: GroupSummary[];
  results: RunResult[];
  missing: PlanFileRun[];
  /** True when every run passed, every expectation over repeats held, and no run is missing. */
  verdict: "pass" | "fail";
  interrupted: boolean;
}

/** A plug-in output format (like Playwright's reporters). */
export interface Reporter {
  name: string;
  /** Writes its files into `dir` (which may not exist yet) and returns the paths written. */
  write(report: RunReport, dir: string): Promise<string[]>;
}

/**
 * A plan's reporters get one stream of events (Playwright's reporter API): the executor calls
 * `fanOut(...)` once and never knows which outputs are active.
 */
export interface PlanReporter {
  name: string;
  onPlanBegin?(begin: PlanBegin): void | Promise<void>;
  /** runId: the run's own id, which names its namespaces, containers and labels. */
  onRunBegin?(run: PlanFileRun, runId: string): void;
  /** A progress line of a run as it goes. */
  onRunLine?(run: PlanFileRun, line: string): void;
  onRunEnd?(result: RunResult): void | Promise<void>;
  onPlanEnd?(summary: PlanSummary): void | Promise<void>;
}

export interface PlanBegin {
  plan: PlanFile;
  /** The runs this invocation will produce (a shard's, --only's, all). */
  runs: PlanFileRun[];
  out: string;
  workers: number;
}

/**
 * One reporter for many, in order. A failing reporter does not silence the others (result.json
 * matters even if the HTML breaks); its error is collected and rethrown once the plan ends.
 */
export function fanOut(
  reporters: PlanReporter[],
): Required<Omit<PlanReporter, "name">> & { errors: Error[] } {
  const errors: Error[] = [];
  const each = async (call: (reporter: PlanReporter) => void | Promise<void>) => {
    for (const reporter of reporters) {
      try {
        await call(reporter);
      } catch (error) {
        errors.push(new Error(`reporter ${reporter.name} failed: ${String(error)}`, { cause: error }));
      }
    }
  };
  const eachNow = (call: (reporter: PlanReporter) => void) => {
    for (const reporter of reporters) {
      try {
        call(reporter);
      } catch (error) {
        errors.push(new Error(`reporter ${reporter.name} failed: ${String(error)}`, { cause: error }));
      }
    }
  };
  return {
    errors,
    onPlanBegin: (begin) => each((r) => r.onPlanBegin?.(begin)),
    onRunBegin: (run, runId) => eachNow((r) => r.onRunBegin?.(run, runId)),
    onRunLine: (run, line) => eachNow((r) => r.onRunLine?.(run, line)),
    onRunEnd: (result) => each((r) => r.onRunEnd?.(result)),
    onPlanEnd: (summary) => each((r) => r.onPlanEnd?.(summary)),
  };
}
