#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { type ClusterFile, databasePassword, loadClusterFile } from "./attach/cluster-file.ts";
import { type Check, checkCluster, formatChecks } from "./attach/doctor.ts";
import { healCluster } from "./attach/heal.ts";
import { dockerStatus, listDockerRuns, removeDockerRun } from "./backend/docker.ts";
import { teardown } from "./backend/local.ts";
import { orphanSessions, removeOrphanSession } from "./backend/ssh.ts";
import { harnessAlive, listStates } from "./backend/state.ts";
import { UsageError } from "./common/errors.ts";
import { newSeed } from "./common/random.ts";
import type { SuiteInfo } from "./model/plan.ts";
import { ENTRYPOINTS, TOPOLOGIES } from "./model/scenario.ts";
import { certificationReporter } from "./report/certification.ts";
import { shortImageId } from "./report/format.ts";
import { invocationReporter, runFilesReporter, terminalReporter } from "./report/plan-reporters.ts";
import type { PlanReporter } from "./report/reporter.ts";
import { useColor } from "./report/terminal.ts";
import { chooseBackend } from "./run/backend-choice.ts";
import { askCluster, describePlan } from "./run/dry-run.ts";
import { executePlan } from "./run/execute.ts";
import { mergeShards } from "./run/merge.ts";
import { readPlanFile } from "./run/plan-file.ts";
import { type Plan, buildPlan, parseShard, selectRuns } from "./run/plan.ts";
import { preflight } from "./run/preflight.ts";
import { checkAttachable } from "./run/runner.ts";
import type { Scenario } from "./scenario/scenario.ts";
import { loadScenario } from "./scenario/scenario.ts";

import { isSuiteFile, loadSuite } from "./scenario/suite.ts";

const USAGE = `usage:
  pgchaos run <scenario.yaml…> [--topology t…] [--backend local|docker|kubernetes] [--stack bookworm|trixie]
                               [--image name:tag] [--out dir] [--keep] [--dry-run] [plan options]
  pgchaos run <scenario.yaml…> --cluster <cluster.yaml> [--yes] [--dry-run] [--out dir] [plan options]
                         attach to a running cluster over SSH; faults need --yes or allow_faults: true;
                         --dry-run prints each step with the members it would hit, and runs nothing
  pgchaos certify <suite.yaml> [--out dir] [plan options]
                         run a certification suite; exit 0 only if every threshold held
  pgchaos merge <dir…> [--out dir]
                         join the --out directories of a plan's shards into one summary
  pgchaos validate <scenario.yaml…> [--backend local|docker | --cluster <cluster.yaml>]
  pgchaos cleanup        remove what crashed or --keep runs left (namespaces, containers, networks)
  pgchaos heal --cluster <cluster.yaml>
                         undo what a crashed attached run left: nft tables, frozen processes,
                         stopped components (started with the file's commands), workload schemas
  pgchaos doctor [--cluster <cluster.yaml>]
                         what is missing, with the command that fixes it; with --cluster, what an
                         attached run needs there (ssh, root or sudo, nft, services, HA manager, role)
  pgchaos --help | --version

plan options:
  --repeat N             run each scenario × topology N times; figures as min/p50/p95/max
  --seed S               the plan's seed, printed first (each run derives its own from it and its key)
  --only <key>           only this run (or group) of the plan, e.g. kill-primary/patroni/r2;
                         with --seed S it replays that run's choices (repeatable)
  --shard i/n            run the i-th of n deterministic slices of the plan (merge them after)
  --workers N            run N clusters at once (default 1: runs do not share the machine)
  --resume               continue the plan in --out: run only the runs without a result

exit codes: 0 every expectation held, 1 an expectation failed or a run hit a problem,
            2 bad input or environment, 130 interrupted`;

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
    case "certify":
      return certifyCommand(rest);
    case "merge":
      return mergeCommand(rest);
    case "validate":
      return validateCommand(rest);
    case "cleanup":
      return cleanupCommand();
    case "heal":
      return healCommand(rest);
    case "doctor":
      return doctorCommand(rest);
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
        topology: { type: "string", multiple: true },
        backend: { type: "string" },
        stack: { type: "string" },
        image: { type: "string" },
        out: { type: "string", default: "reports" },
        keep: { type: "boolean", default: false },
        repeat: { type: "string" },
        seed: { type: "string" },
        only: { type: "string", multiple: true },
        shard: { type: "string" },
        workers: { type: "string" },
        resume: { type: "boolean", default: false },
        cluster: { type: "string" },
        yes: { type: "boolean", default: false },
        "dry-run": { type: "boolean", default: false },
      },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
}

type Flags = ReturnType<typeof parse>["values"];

function loadAll(files: string[]): Scenario[] {
  if (files.length === 0) throw new UsageError(`no scenario file given\n${USAGE}`);
  return files.map(loadScenario);
}

function wholeNumber(flag: string, text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value > max)
    throw new UsageError(`--${flag} ${text}: write a whole number from 0 to ${max}`);
  return value;
}

/**
 * The seed: --seed, else (resuming) the plan's own, else a fresh one. A resumed plan must draw
 * the same choices for its missing runs as the first invocation would have.
 */
function planSeed(values: Flags, out: string, suiteSeed: number | null): number {
  if (values.seed !== undefined) return wholeNumber("seed", values.seed, 0, 4294967295);
  if (suiteSeed !== null) return suiteSeed;
  if (values.resume) {
    const existing = readPlanFile(out);
    if (existing) return existing.seed;
  }
  return newSeed();
}

async function runCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args);
  // Validate everything before starting anything: bad input must leave nothing running.
  const scenarios = loadAll(positionals);
  const out = resolve(values.out);
  const cluster = attachedCluster(values);
  const plan = buildPlan(scenarios, {
    topologies: cluster ? [cluster.ha] : values.topology,
    backend: { ...values, attach: cluster !== null },
    repeat: wholeNumber("repeat", values.repeat, 1, 1000),
    seed: planSeed(values, out, null),
  });
  if (cluster) checkAttachPlan(plan, cluster, values);
  if (values["dry-run"]) {
    const runs = selectRuns(plan, {
      shard: values.shard === undefined ? undefined : parseShard(values.shard),
      only: values.only,
    });
    const attached = cluster ? { cluster, now: await askCluster(cluster) } : null;
    for (const left of plan.skipped) console.log(`skipped ${left}`);
    for (const line of describePlan({ ...plan, runs }, attached)) console.log(line);
    return 0;
  }
  return executeCommand(plan, values, out, null, cluster);
}

/**
 * --cluster: the cluster file, loaded and checked (its password found) before anything connects.
 * It names hosts that already run: nothing to provision (--backend) and nothing to keep (--keep).
 */
function attachedCluster(values: Flags, { password = true } = {}): ClusterFile | null {
  if (values.cluster === undefined) return null;
  const clashing = (["backend", "keep", "stack", "image"] as const).filter((flag) =>
    flag === "keep" ? values.keep : values[flag] !== undefined,
  );
  if (clashing.length > 0)
    throw new UsageError(
      `--cluster attaches to hosts that already run: drop ${clashing.map((f) => `--${f}`).join(", ")}`,
    );
  const cluster = loadClusterFile(values.cluster);
  const other = values.topology?.find((topology) => topology !== cluster.ha);
  if (other !== undefined)
    throw new UsageError(`--topology ${other}: ${cluster.file} is a ${cluster.ha} cluster`);
  if (password) databasePassword(cluster);
  return cluster;
}

/** One cluster, one run at a time; and nothing destructive unless the user said so. */
function checkAttachPlan(plan: Plan, cluster: ClusterFile, values: Flags): void {
  if (values.workers !== undefined && values.workers !== "1")
    throw new UsageError(`--workers ${values.workers}: an attached cluster runs one scenario at a time`);
  for (const run of plan.runs) checkAttachable(run.scenario, run.topology, cluster);
  if (values.yes || cluster.allowFaults || values["dry-run"]) return;
  const destructive = plan.runs.find((run) =>
    run.scenario.steps.some((step) => step.kind === "fault" || step.kind === "nemesis"),
  );
  if (destructive)
    throw new UsageError(
      `${destructive.scenario.file}: injects faults into cluster ${cluster.name}: add --yes, or allow_faults: true to ${cluster.file}`,
    );
}

async function certifyCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args);
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) throw new UsageError(`certify takes one suite file\n${USAGE}`);
  const suite = loadSuite(file);
  const out = resolve(values.out);
  const scenarios = suite.scenarios.map(loadScenario);
  const plan = buildPlan(scenarios, {
    topologies: values.topology ?? suite.topologies ?? undefined,
    stacks: values.stack === undefined ? (suite.stacks ?? undefined) : undefined,
    backend: { ...values, backend: values.backend ?? suite.backend ?? undefined },
    repeat: wholeNumber("repeat", values.repeat, suite.repeat, 1000),
    seed: planSeed(values, out, suite.seed),
  });
  const info = {
    name: suite.name,
    file: suite.file,
    description: suite.description,
    thresholds: suite.thresholds,
  };
  return executeCommand(plan, values, out, info);
}

async function executeCommand(
  plan: Plan,
  values: Flags,
  out: string,
  suite: SuiteInfo | null,
  cluster: ClusterFile | null = null,
): Promise<number> {
  const color = useColor(process.stdout, process.env);
  const shard = values.shard === undefined ? null : parseShard(values.shard);
  const runs = selectRuns(plan, { shard: shard ?? undefined, only: values.only });
  const workers = Math.max(1, wholeNumber("workers", values.workers, 1, 16));
  for (const left of plan.skipped) console.log(`pgchaos: skipped ${left}`);
  const { summary, signal } = await executePlan(plan, {
    out,
    runs,
    workers,
    keep: values.keep,
    resume: values.resume,
    shard,
    suite,
    reporters: reportersFor(out, color, suite !== null),
    cluster,
  });
  if (signal) return signal === "SIGINT" ? 130 : 143;
  return summary.verdict === "pass" ? 0 : 1;
}

function reportersFor(out: string, color: boolean, certify: boolean): PlanReporter[] {
  const print = (line: string) => console.log(line);
  return [
    runFilesReporter,
    terminalReporter({ color }),
    invocationReporter(out, print),
    ...(certify ? [certificationReporter(out, print)] : []),
  ];
}

async function mergeCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args);
  const out = resolve(values.out === "reports" ? "reports-merged" : values.out);
  const color = useColor(process.stdout, process.env);
  const first = positionals[0] === undefined ? null : readPlanFile(positionals[0]);
  const summary = await mergeShards(positionals, out, reportersFor(out, color, first?.suite != null));
  return summary.verdict === "pass" ? 0 : 1;
}

function validateCommand(args: string[]): number {
  const { values, positionals } = parse(args);
  if (positionals.length === 0) throw new UsageError(`no scenario file given\n${USAGE}`);
  const cluster = attachedCluster(values, { password: false });
  if (cluster) {
    const plan = buildPlan(positionals.map(loadScenario), {
      topologies: [cluster.ha],
      backend: { attach: true },
      repeat: 1,
      seed: 0,
    });
    for (const run of plan.runs) checkAttachable(run.scenario, run.topology, cluster);
    for (const run of plan.runs)
      console.log(`${run.scenario.file}: ok (${run.scenario.name}, attach to ${cluster.name} over ssh)`);
    return 0;
  }
  for (const file of positionals) {
    if (isSuiteFile(file)) {
      const suite = loadSuite(file);
      const plan = buildPlan(suite.scenarios.map(loadScenario), {
        topologies: suite.topologies ?? undefined,
        stacks: suite.stacks ?? undefined,
        backend: { ...values, backend: values.backend ?? suite.backend ?? undefined },
        repeat: suite.repeat,
        seed: 0,
      });
      console.log(`${file}: ok (suite ${suite.name}, ${plan.runs.length} runs per repeat × ${suite.repeat})`);
      continue;
    }
    const scenario = loadScenario(file);
    const { kind } = chooseBackend(scenario, values);
    console.log(`${file}: ok (${scenario.name}, backend ${kind})`);
  }
  return 0;
}

/** Undoes what crashed or killed attached runs left on a cluster; a second heal finds nothing. */
async function healCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args);
  if (values.cluster === undefined || positionals.length > 0)
    throw new UsageError(`heal takes --cluster <cluster.yaml> and nothing else\n${USAGE}`);
  const cluster = loadClusterFile(values.cluster);
  databasePassword(cluster);
  await healCluster(cluster, (line) => console.log(`pgchaos heal: ${line}`));
  return 0;
}

async function cleanupCommand(): Promise<number> {
  const states = listStates();
  const dockerRuns = await listDockerRuns();
  const sessions = orphanSessions();
  if (states.length === 0 && dockerRuns.length === 0 && sessions.length === 0)
    console.log("pgchaos cleanup: nothing to remove");
  for (const session of sessions) {
    await removeOrphanSession(session);
    console.log(
      `run ${session.runId}: closed ${session.processes.length} SSH connection process(es) of a killed attached run`,
    );
  }
  for (const run of dockerRuns) {
    if (harnessAlive(run.harnessPid, run.harnessStarted)) {
      console.log(`run ${run.runId}: still running (harness pid ${run.harnessPid}), left alone`);
      continue;
    }
    await removeDockerRun(run.runId);
    console.log(`run ${run.runId}: removed ${run.containers} containers and ${run.networks} network(s)`);
  }
  for (const state of states) {
    if (harnessAlive(state.harness_pid, state.harness_started)) {
      console.log(`run ${state.run_id}: still running (harness pid ${state.harness_pid}), left alone`);
      continue;
    }
    await teardown(state);
    console.log(`run ${state.run_id}: removed ${state.namespaces.length} namespaces and their processes`);
  }
  return 0;
}

async function doctorCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args);
  if (positionals.length > 0)
    throw new UsageError(`doctor takes no file but --cluster <cluster.yaml>\n${USAGE}`);
  const print = (checks: Check[]) => {
    for (const line of formatChecks(checks)) console.log(line);
  };
  if (values.cluster !== undefined) {
    const cluster = loadClusterFile(values.cluster);
    console.log(`cluster ${cluster.name} (${cluster.ha}, ${cluster.members.length} members, over ssh):`);
    const checks = await checkCluster(cluster);
    print(checks);
    return checks.every((c) => c.ok) ? 0 : 2;
  }
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
