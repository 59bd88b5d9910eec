#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { dockerStatus, listDockerRuns, removeDockerRun } from "./backend/docker.ts";
import { chooseBackend } from "./backend/index.ts";
import { teardown } from "./backend/local.ts";
import { listStates } from "./backend/state.ts";
import { UsageError } from "./common/errors.ts";
import { ENTRYPOINTS } from "./entrypoints/entrypoint.ts";
import { shortImageId } from "./report/format.ts";
import { type InvocationRun, writeInvocationReports, writeReports } from "./report/index.ts";
import type { RunReport } from "./report/reporter.ts";
import { formatSummary, formatVerdict } from "./report/terminal.ts";
import { preflight } from "./run/preflight.ts";
import { newRunId, runScenario } from "./run/runner.ts";
import { type Scenario, loadScenario } from "./scenario/scenario.ts";
import { TOPOLOGIES } from "./scenario/schema.ts";
import { verify } from "./verify/index.ts";

const USAGE = `usage:
  pgchaos run <scenario.yaml…> [--topology t] [--backend local|docker] [--stack bookworm|trixie]
                               [--image name:tag] [--out dir] [--keep]
  pgchaos validate <scenario.yaml…> [--backend local|docker]
  pgchaos cleanup        remove what crashed or --keep runs left (namespaces, containers, networks)
  pgchaos doctor         what is missing, with the command that fixes it
  pgchaos --help | --version

exit codes: 0 every expectation held, 1 an expectation failed or the run hit a problem,
            2 bad input or environment`;

const VERSION = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;

/** Exit codes: 0 every expectation held, 1 an expectation failed, 2 bad input or environment. */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "--version" || command === "-v") {
    console.log(`pgchaos ${VERSION}`);
    return 0;
  }
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
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
        backend: { type: "string" },
        stack: { type: "string" },
        image: { type: "string" },
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
    return { scenario, topologies, backend: chooseBackend(scenario, values) };
  });
  for (const { scenario, topologies, backend } of plan) {
    for (const topology of topologies) {
      const runId = newRunId();
      const dir = resolve(values.out, `${scenario.name}-${topology}-${runId}`);
      console.log(`pgchaos: ${scenario.name} on ${topology} (run ${runId})`);
      const record = await runScenario(scenario, runId, {
        topology,
        backend,
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
  const { values, positionals } = parse(args);
  for (const scenario of loadAll(positionals)) {
    const { kind } = chooseBackend(scenario, values);
    console.log(`${scenario.file}: ok (${scenario.name}, backend ${kind})`);
  }
  return 0;
}

async function cleanupCommand(): Promise<number> {
  const states = listStates();
  const dockerRuns = await listDockerRuns();
  if (states.length === 0 && dockerRuns.length === 0) console.log("pgchaos cleanup: nothing to remove");
  for (const run of dockerRuns) {
    if (harnessStillRunning(run.harnessPid)) {
      console.log(`run ${run.runId}: still running (harness pid ${run.harnessPid}), left alone`);
      continue;
    }
    await removeDockerRun(run.runId);
    console.log(`run ${run.runId}: removed ${run.containers} containers and ${run.networks} network(s)`);
  }
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
  const print = (checks: { what: string; ok: boolean; fix: string }[]) => {
    for (const check of checks)
      console.log(
        `${check.ok ? "ok     " : "MISSING"} ${check.what}${check.ok ? "" : `\n        fix: ${check.fix}`}`,
      );
  };
  console.log("backend local (network namespaces, the host's packages):");
  const local = await preflight("local", [...TOPOLOGIES, ...ENTRYPOINTS]);
  print(local);
  console.log("backend docker (containers from pgchaos/node images):");
  const docker = await dockerStatus();
  const dockerChecks = [
    {
      what: `Docker engine: ${docker.detail}`,
      ok: docker.reachable,
      fix: "start dockerd (or set DOCKER_HOST)",
    },
    ...docker.images.map((image) => ({
      what: `image ${image.name}${image.id ? ` (${shortImageId(image.id)})` : ""}`,
      ok: image.id !== null,
      fix: `bash docker/build.sh ${image.name.split(":")[1] ?? ""}`,
    })),
  ];
  print(dockerChecks);
  // Either backend being ready is enough to run scenarios.
  return local.every((c) => c.ok) || dockerChecks.every((c) => c.ok) ? 0 : 2;
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
