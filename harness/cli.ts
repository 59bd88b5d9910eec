#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { teardown } from "./backend/local.ts";
import { listStates } from "./backend/state.ts";
import { UsageError } from "./common/errors.ts";
import { ENTRYPOINTS } from "./entrypoints/entrypoint.ts";
import { type InvocationRun, writeInvocationReports, writeReports } from "./report/index.ts";
import type { RunReport } from "./report/reporter.ts";
import { formatSummary, formatVerdict } from "./report/terminal.ts";
import { preflight } from "./run/preflight.ts";
import { newRunId, runScenario } from "./run/runner.ts";
import { type Scenario, loadScenario } from "./scenario/scenario.ts";
import { TOPOLOGIES } from "./scenario/schema.ts";
import { verify } from "./verify/index.ts";

const USAGE = `usage:
  pgchaos run <scenario.yaml…> [--topology t] [--out dir] [--keep]
  pgchaos validate <scenario.yaml…>
  pgchaos cleanup
  pgchaos doctor`;

/** Exit codes: 0 every expectation held, 1 an expectation failed, 2 bad input or environment. */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "run":
      return runCommand(rest);
    case "validate":
      return validateCommand(rest);
    case "cleanup":
      return cleanupCommand();
    case "doctor":
      return doctorCommand();
    default:
      throw new UsageError(command ? `unknown command "${command}"\n${USAGE}` : USAGE);
  }
}

function parse(args: string[]) {
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      options: {
        topology: { type: "string" },
        out: { type: "string", default: "reports" },
        keep: { type: "boolean", default: false },
      },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
}

function loadAll(files: string[]): Scenario[] {
  if (files.length === 0) throw new UsageError(`no scenario file given\n${USAGE}`);
  return files.map(loadScenario);
}

async function runCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args);
  // Validate everything before starting anything: bad input must leave nothing running.
  const scenarios = loadAll(positionals);
  const only = values.topology;
  if (only !== undefined && !(TOPOLOGIES as readonly string[]).includes(only)) {
    throw new UsageError(`--topology ${only}: unknown (known: ${TOPOLOGIES.join(", ")})`);
  }
  const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
  const reports: RunReport[] = [];
  const runs: InvocationRun[] = [];
  const outDir = resolve(values.out);
  let invocation: Awaited<ReturnType<typeof writeInvocationReports>> | undefined;
  // The whole plan is checked before the first cluster starts: bad input leaves nothing running.
  const plan = scenarios.map((scenario) => {
    const topologies = only ? scenario.topologies.filter((t) => t === only) : scenario.topologies;
    if (topologies.length === 0) throw new UsageError(`${scenario.file}: does not list topology ${only}`);
    return { scenario, topologies };
  });
  for (const { scenario, topologies } of plan) {
    for (const topology of topologies) {
      const runId = newRunId();
      const dir = resolve(values.out, `${scenario.name}-${topology}-${runId}`);
      console.log(`pgchaos: ${scenario.name} on ${topology} (run ${runId})`);
      const record = await runScenario(scenario, runId, {
        topology,
        keep: values.keep,
        logsDir: join(dir, "logs"),
        progress: (line) => console.log(line),
      });
      const report: RunReport = {
        record,
        verification: verify(record),
        scenarioSource: scenario.source,
        scenarioDescription: scenario.description,
      };
      const paths = await writeReports(report, dir);
      console.log(`\n${formatVerdict(report, { color })}`);
      for (const path of paths) console.log(`  ${path}`);
      reports.push(report);
      runs.push({ report, dir });
      // Rewritten after every run, so an invocation that dies midway still leaves a usable index.
      invocation = await writeInvocationReports(runs, outDir);
    }
  }
  console.log(`\n${formatSummary(reports, { color })}`);
  if (invocation) console.log(`\nreport: ${invocation.index}\njunit:  ${invocation.junit}`);
  return reports.every((r) => r.verification.verdict === "pass") ? 0 : 1;
}

function validateCommand(args: string[]): number {
  const { positionals } = parse(args);
  for (const scenario of loadAll(positionals)) console.log(`${scenario.file}: ok (${scenario.name})`);
  return 0;
}

async function cleanupCommand(): Promise<number> {
  const states = listStates();
  if (states.length === 0) console.log("pgchaos cleanup: nothing to remove");
  for (const state of states) {
    if (harnessStillRunning(state.harness_pid)) {
      console.log(`run ${state.run_id}: still running (harness pid ${state.harness_pid}), left alone`);
      continue;
    }
    await teardown(state);
    console.log(`run ${state.run_id}: removed ${state.namespaces.length} namespaces and their processes`);
  }
  return 0;
}

/** A PID can be reused after a harness died or a --keep run ended: only a live pgchaos protects its run. */
function harnessStillRunning(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return cmdline.includes("pgchaos") || cmdline.includes("harness/cli");
  } catch {
    return false;
  }
}

async function doctorCommand(): Promise<number> {
  const checks = await preflight([...TOPOLOGIES, ...ENTRYPOINTS]);
  for (const check of checks)
    console.log(
      `${check.ok ? "ok     " : "MISSING"} ${check.what}${check.ok ? "" : `\n        fix: ${check.fix}`}`,
    );
  return checks.every((c) => c.ok) ? 0 : 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`pgchaos: ${error.message}`);
      process.exit(2);
    }
    console.error(`pgchaos: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
