/**
 * The plan's reporters: the terminal, each run's own files (result.json, report.html), and the
 * invocation's files (index.html, junit.xml, summary.json). The CLI picks the list; the executor
 * fans events out to it and knows none of them.
 */
import { writeReports } from "./index.ts";
import type { PlanReporter } from "./reporter.ts";
import { brokenLine, groupLines } from "./statistics.ts";
import { type InvocationRun, writeInvocationReports } from "./suite.ts";
import { formatSummary, formatVerdict } from "./terminal.ts";

export interface TerminalReporterOptions {
  color: boolean;
  write?: (line: string) => void;
}

export function terminalReporter(options: TerminalReporterOptions): PlanReporter {
  const write = options.write ?? ((line: string) => console.log(line));
  let workers = 1;
  return {
    name: "terminal",
    onPlanBegin({ plan, runs, workers: n }) {
      workers = n;
      const shard = plan.shard ? ` · shard ${plan.shard.index}/${plan.shard.count}` : "";
      if (plan.runs.length > 1 || plan.repeat > 1) {
        write(
          `pgchaos: plan ${plan.plan_id}: ${runs.length} of ${plan.runs.length} runs${shard} · seed ${plan.seed}${n > 1 ? ` · ${n} at once` : ""}`,
        );
      }
    },
    onRunBegin(run, runId) {
      write(`pgchaos: ${run.scenario} on ${run.topology} (run ${runId}) · ${run.key} · run seed ${run.seed}`);
    },
    onRunLine(run, line) {
      // Runs made at once interleave: each line says whose it is.
      write(workers > 1 ? `${run.key} ${line}` : line);
    },
    onRunEnd({ report, dir, reused }) {
      write(
        `\n${formatVerdict(report, { color: options.color })}${reused ? "  (from an earlier invocation)" : ""}`,
      );
      write(`  ${dir}/report.html`);
    },
    onPlanEnd(summary) {
      write(
        `\n${formatSummary(
          summary.results.map((r) => r.report),
          { color: options.color },
        )}`,
      );
      // Spreads for groups of several runs; a one-run group only when its thresholds broke.
      const repeated = summary.groups.filter((g) => g.results.length + g.missing.length > 1);
      const broken = summary.groups.filter(
        (g) => !repeated.includes(g) && g.expectations.some((e) => !e.pass),
      );
      if (repeated.length > 0) {
        write("\nover repeats:");
        for (const group of repeated) write(groupLines(group).join("\n"));
      }
      if (broken.length > 0) {
        write("\nthresholds broken:");
        for (const group of broken) write(brokenLine(group));
      }
      if (summary.missing.length > 0) {
        write(
          `\n${summary.missing.length} planned run(s) not run: ${summary.missing.map((r) => r.key).join(", ")}`,
        );
      }
      const { plan } = summary;
      write(
        `\nplan ${plan.plan_id} · seed ${plan.seed} · replay one run with: --seed ${plan.seed} --only <key>`,
      );
    },
  };
}

/** result.json, history.json and report.html of every run made now (reused runs have theirs). */
export const runFilesReporter: PlanReporter = {
  name: "run files",
  async onRunEnd({ report, dir, reused }) {
    if (!reused) await writeReports(report, dir);
  },
};

/**
 * index.html, junit.xml and summary.json, rewritten after every run so a plan that dies midway
 * still leaves a usable index, and once more with the statistics when it ends.
 */
export function invocationReporter(out: string, print: (line: string) => void): PlanReporter {
  const runs: InvocationRun[] = [];
  return {
    name: "invocation files",
    async onRunEnd({ report, dir }) {
      runs.push({ report, dir });
      await writeInvocationReports(runs, out);
    },
    async onPlanEnd(summary) {
      const ordered = summary.results.map(({ report, dir }) => ({ report, dir }));
      const paths = await writeInvocationReports(ordered, out, new Date().toISOString(), summary);
      print(`report: ${paths.index}\njunit:  ${paths.junit}`);
    },
  };
}
