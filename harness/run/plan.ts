import { createHash } from "node:crypto";
import type { BackendChoice } from "../backend/index.ts";
import { UsageError } from "../common/errors.ts";
import { deriveSeed } from "../common/random.ts";
/**
 * The plan: scenarios × topologies × sweep points (HA settings, stacks) × repeats, each run with a
 * stable key. The key names the run's directory, derives its seed and selects it (--only, --shard),
 * so the same command always plans the same runs, whichever part of them a process executes.
 */
import type { Shard } from "../model/plan.ts";
import type { SweepAxis, SweepValue } from "../model/scenario.ts";
import { type STACKS, TOPOLOGIES, type TopologyName } from "../model/scenario.ts";
import type { Scenario } from "../scenario/scenario.ts";
import { TOPOLOGY_BACKENDS } from "../scenario/schema.ts";
import { chooseBackend } from "./backend-choice.ts";

type Stack = (typeof STACKS)[number];

export interface BackendFlags {
  backend?: string;
  /** --cluster: every run attaches over SSH to the cluster file's hosts. */
  attach?: boolean;
  stack?: string;
  image?: string;
}

export interface PlanOptions {
  /** --topology, a suite's topologies: only these of each scenario's topologies. */
  topologies?: readonly string[];
  /** A suite's stacks: every scenario on each (replaces a scenario's own stack sweep). */
  stacks?: readonly Stack[];
  backend: BackendFlags;
  repeat: number;
  seed: number;
}

export interface PlannedRun {
  /** e.g. "kill-primary/patroni/r2" or "kill-primary/patroni/patroni.ttl=20/r1". */
  key: string;
  /** Runs that differ only in their repeat share a group; statistics and plan thresholds are per group. */
  group: string;
  /** The run's directory under --out. */
  dir: string;
  /** The scenario with this run's sweep point applied. */
  scenario: Scenario;
  topology: TopologyName;
  backend: BackendChoice;
  /** Sweep axis key → this run's value; empty without a sweep. */
  point: Record<string, SweepValue>;
  repeat: number;
  seed: number;
}

export interface Plan {
  /** A hash of everything that decides what the runs do: shards and resumes must share it. */
  id: string;
  seed: number;
  repeat: number;
  runs: PlannedRun[];
  /**
   * Scenario × topology pairs left out because the backend cannot run that topology and nobody
   * named it (`--topology`, a suite's list): said at the start, never silently dropped.
   */
  skipped: string[];
}

export function buildPlan(scenarios: Scenario[], options: PlanOptions): Plan {
  const only = options.topologies;
  for (const name of only ?? []) {
    if (!(TOPOLOGIES as readonly string[]).includes(name)) {
      throw new UsageError(`--topology ${name}: unknown (known: ${TOPOLOGIES.join(", ")})`);
    }
  }
  if (!Number.isSafeInteger(options.repeat) || options.repeat < 1) {
    throw new UsageError(`--repeat ${options.repeat}: must be a whole number ≥ 1`);
  }
  const runs: PlannedRun[] = [];
  const skipped: string[] = [];
  for (const scenario of scenarios) {
    const topologies = only ? scenario.topologies.filter((t) => only.includes(t)) : scenario.topologies;
    if (topologies.length === 0) {
      throw new UsageError(`${scenario.file}: does not list topology ${only?.join(" or ")}`);
    }
    const axes: SweepAxis[] = options.stacks
      ? [
          ...scenario.sweep.filter((a) => a.kind !== "stack"),
          { kind: "stack", key: "stack", values: [...options.stacks] },
        ]
      : scenario.sweep;
    for (const topology of topologies) {
      for (const point of sweepPoints(axes, topology)) {
        const applied = applyPoint(scenario, topology, point);
        const stack = point.stack;
        const backend = chooseBackend(applied, {
          ...options.backend,
          stack: options.backend.stack ?? (typeof stack === "string" ? stack : undefined),
        });
        const backends = TOPOLOGY_BACKENDS[topology];
        if (backends && !backends.includes(backend.kind)) {
          const why = `${topology} runs on the ${backends.join(" or ")} backend only, not ${backend.kind}`;
          // Asked for by name: an error. Only listed by the scenario: left out, and said so.
          if (only?.includes(topology)) throw new UsageError(`${scenario.file}: ${why}`);
          skipped.push(`${scenario.name}/${topology}: ${why}`);
          continue;
        }
        const group = [scenario.name, topology, ...Object.entries(point).map(([k, v]) => `${k}=${v}`)].join(
          "/",
        );
        for (let repeat = 1; repeat <= options.repeat; repeat++) {
          const key = `${group}/r${repeat}`;
          runs.push({
            key,
            group,
            dir: key.replaceAll("/", "-").replace(/[^A-Za-z0-9_.=-]/g, "_"),
            scenario: applied,
            topology,
            backend,
            point,
            repeat,
            seed: deriveSeed(options.seed, key),
          });
        }
      }
    }
  }
  if (runs.length === 0 && skipped.length > 0) throw new UsageError(`nothing to run: ${skipped.join("; ")}`);
  const duplicate = runs.find((run, i) => runs.findIndex((other) => other.key === run.key) !== i);
  if (duplicate)
    throw new UsageError(`run ${duplicate.key} is planned twice: give each scenario its own name`);
  return { id: planId(runs, options.seed), seed: options.seed, repeat: options.repeat, runs, skipped };
}

/** Every combination of the axes that concern this topology (another topology's setting does not multiply it). */
function sweepPoints(axes: SweepAxis[], topology: TopologyName): Record<string, SweepValue>[] {
  let points: Record<string, SweepValue>[] = [{}];
  for (const axis of axes) {
    if (axis.kind === "setting" && axis.topology !== topology) continue;
    points = points.flatMap((point) => axis.values.map((value) => ({ ...point, [axis.key]: value })));
  }
  return points;
}

function applyPoint(scenario: Scenario, topology: TopologyName, point: Record<string, SweepValue>): Scenario {
  if (Object.keys(point).length === 0) return scenario;
  const settings: Record<string, SweepValue> = {};
  let stack = scenario.cluster.stack;
  for (const [key, value] of Object.entries(point)) {
    if (key === "stack") stack = value as typeof stack;
    else settings[key.slice(topology.length + 1)] = value;
  }
  const ha = { ...scenario.cluster.ha, [topology]: { ...scenario.cluster.ha[topology], ...settings } };
  return { ...scenario, cluster: { ...scenario.cluster, stack, ha } };
}

function planId(runs: PlannedRun[], seed: number): string {
  const hash = createHash("sha256");
  hash.update(String(seed));
  for (const run of runs) {
    hash.update(`\n${run.key}\n${JSON.stringify(run.backend)}\n`);
    hash.update(run.scenario.source);
  }
  return hash.digest("hex").slice(0, 16);
}

/** "2/3" → the second of three shards. */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text);
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index < 1 || index > count) {
    throw new UsageError(`--shard ${text}: write i/n with 1 ≤ i ≤ n, e.g. --shard 1/4`);
  }
  return { index, count };
}

/**
 * The runs this process executes. Shards deal runs round-robin in plan order, so each shard gets a
 * share of every scenario and topology (contiguous slices would give one shard all the slow ones).
 */
export function selectRuns(plan: Plan, select: { shard?: Shard; only?: string[] }): PlannedRun[] {
  let runs = plan.runs;
  if (select.shard) {
    const { index, count } = select.shard;
    runs = runs.filter((_, i) => i % count === index - 1);
  }
  if (select.only && select.only.length > 0) {
    const wanted = select.only;
    const unknown = wanted.filter((key) => !plan.runs.some((run) => matches(run, key)));
    if (unknown.length > 0) {
      throw new UsageError(
        `--only ${unknown.join(", ")}: no such run in this plan (runs look like ${plan.runs[0]?.key ?? "scenario/topology/r1"})`,
      );
    }
    runs = runs.filter((run) => wanted.some((key) => matches(run, key)));
  }
  return runs;
}

/** A key selects a run exactly, or every run of a group ("kill-primary/patroni"). */
function matches(run: PlannedRun, key: string): boolean {
  return run.key === key || run.group === key || run.group.startsWith(`${key}/`);
}
