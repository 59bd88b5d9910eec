import { execFileSync } from "node:child_process";
/**
 * npm run bench — prints figures, asserts nothing (timings belong here, not in tests).
 *
 * 1. Failover cases: Patroni at ttl 5 / loop_wait 1 / retry_timeout 2 (local, and Docker when the
 *    engine and pgchaos/node:bookworm are there), pg_auto_failover with tightened and with default
 *    health checks, and repmgr on each backend side by side (local, Docker, and Kubernetes Pods when
 *    the node image is built): backend start, cold start to healthy, scenario wall time, RTO beside
 *    the bound verify derives from the settings in force, and the RTO's phases; for Kubernetes also
 *    the node's start to Ready, as the backend measured it.
 * 2. The certification suite (scenarios/certification.yaml, 1 repeat) through the plan executor:
 *    its wall time (target ≤ 15 min), cold start to healthy per topology (target ≤ 5 s), the
 *    harness's own time per run outside cluster start and the scenario's steps (target ≤ 5 s),
 *    and the harness's CPU as a share of one core (target ≤ 5 %).
 * 3. What clients read: the workload's operations per second (reads + writes, full history) on
 *    stale-reads-replica (target ≥ 2,000/s), and the read and list-append checkers on 1 M
 *    synthetic operations each (target ≤ 5 s).
 * --quick skips pg_auto_failover's defaults and the certification suite; --reads runs only part 3.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { dockerStatus } from "../harness/backend/docker.ts";
import { KUBE_NODE_IMAGE } from "../harness/backend/kubernetes-node.ts";
import { newSeed } from "../harness/common/random.ts";
import type { RunRecord } from "../harness/model/record.ts";
import type { BackendKind, TopologyName } from "../harness/model/scenario.ts";
import { runFilesReporter } from "../harness/report/plan-reporters.ts";
import { executePlan } from "../harness/run/execute.ts";
import { buildPlan } from "../harness/run/plan.ts";
import { newRunId, runScenario } from "../harness/run/runner.ts";
import type { Scenario } from "../harness/scenario/scenario.ts";
import { loadScenario } from "../harness/scenario/scenario.ts";

import { loadSuite } from "../harness/scenario/suite.ts";
import { haRulesOf } from "../harness/topology/index.ts";
import { verify } from "../harness/verify/index.ts";
import { syntheticListAppendHistory } from "../harness/verify/list-append-fixture.ts";
import { checkListAppend } from "../harness/verify/list-append.ts";
import { syntheticReadHistory } from "../harness/verify/read-helpers.ts";
import { checkReads } from "../harness/verify/reads.ts";

const { values } = parseArgs({
  options: {
    repeat: { type: "string", default: "1" },
    quick: { type: "boolean", default: false },
    reads: { type: "boolean", default: false },
  },
});
const repeats = Number(values.repeat);

const base = loadScenario(new URL("../scenarios/kill-primary.yaml", import.meta.url).pathname);

interface Case {
  label: string;
  topology: TopologyName;
  backend: BackendKind;
  scenario: Scenario;
}

const withHa = (nodes: number, ha: Scenario["cluster"]["ha"]): Scenario => ({
  ...base,
  cluster: { ...base.cluster, nodes, ha },
});

const fastPaf = base.cluster.ha.pg_auto_failover ?? {};
const patroniFast = {
  topology: "patroni" as const,
  scenario: withHa(3, { patroni: { ttl: 5, loop_wait: 1, retry_timeout: 2 } }),
};
const docker = await dockerStatus();
const dockerReady = docker.reachable && docker.images.some((i) => i.name === "pgchaos/node:bookworm" && i.id);
if (!dockerReady) console.error(`docker case skipped: ${docker.detail} (build images: bash docker/build.sh)`);
/** The node image the kubernetes backend starts (docker/kube-node/build.sh). */
function imageBuilt(name: string): boolean {
  try {
    execFileSync("docker", ["image", "inspect", name], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const kubeReady = dockerReady && imageBuilt(KUBE_NODE_IMAGE);
if (dockerReady && !kubeReady)
  console.error(`kubernetes case skipped: ${KUBE_NODE_IMAGE} not built (bash docker/kube-node/build.sh)`);
const repmgrCase = (backend: BackendKind): Case => ({
  label: `repmgr · ${backend}`,
  backend,
  topology: "repmgr",
  scenario: withHa(3, { repmgr: base.cluster.ha.repmgr }),
});
const allCases: Case[] = [
  { label: "patroni 5/1/2 · local", backend: "local", ...patroniFast },
  ...(dockerReady ? [{ label: "patroni 5/1/2 · docker", backend: "docker" as const, ...patroniFast }] : []),
  {
    label: "pg_auto_failover fast, 2 nodes",
    backend: "local",
    topology: "pg_auto_failover",
    scenario: withHa(2, { pg_auto_failover: fastPaf }),
  },
  ...(values.quick
    ? []
    : [
        {
          label: "pg_auto_failover defaults, 2 nodes",
          backend: "local" as const,
          topology: "pg_auto_failover" as const,
          scenario: withHa(2, { pg_auto_failover: {} }),
        },
      ]),
  repmgrCase("local"),
  ...(dockerReady ? [repmgrCase("docker")] : []),
  ...(kubeReady ? [repmgrCase("kubernetes")] : []),
];
const cases = values.reads ? [] : allCases;

function table(rows: string[][]): void {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length))) ?? [];
  for (const row of rows)
    console.log(
      row
        .map((cell, c) => cell.padEnd(widths[c] ?? 0))
        .join("  ")
        .trimEnd(),
    );
}

const s2 = (x: number | null | undefined) => (x === null || x === undefined ? "—" : x.toFixed(2));

/** Run time spent in the scenario's own steps: workload started → workload stopped. */
function stepsSeconds(record: RunRecord): number {
  const at = (text: string) => record.timeline.find((e) => e.kind === "step" && e.text === text)?.at_ns ?? 0;
  return (at("workload stopped") - at("workload started")) / 1e9;
}

/** What the harness spent outside cluster start and the steps: backend, ledger, final reads, teardown. */
function ownSeconds(record: RunRecord): number | null {
  if (!record.harness) return null;
  return (
    record.duration_s + record.harness.teardown_s - record.harness.cluster_start_s - stepsSeconds(record)
  );
}

const rows: string[][] = [
  [
    "case",
    "run",
    "backend_s",
    "node_ready_s",
    "healthy_s",
    "scenario_s",
    "rto_s",
    "bound_s",
    "detect/elect/reconnect_s",
    "cpu %",
    "verdict",
  ],
];
for (const benchCase of cases) {
  for (let i = 1; i <= repeats; i++) {
    const started = performance.now();
    // The kubernetes backend says how long its node took to be Ready; no other backend has a node.
    let nodeReady: number | null = null;
    const record = await runScenario(benchCase.scenario, newRunId(), {
      topology: benchCase.topology,
      backend: { kind: benchCase.backend, stack: "bookworm", image: null },
      keep: false,
      logsDir: join(mkdtempSync(join(tmpdir(), "pgchaos-bench-")), "logs"),
      progress: (line) => {
        const ready = /kubernetes node \S+ Ready in ([\d.]+) s/.exec(line);
        if (ready) nodeReady = Number(ready[1]);
      },
      seed: i,
    });
    const wall = (performance.now() - started) / 1000;
    const v = verify(record, haRulesOf(record.topology));
    const phases = v.rto_per_fault[0]?.phases;
    rows.push([
      benchCase.label,
      String(i),
      s2(record.harness?.backend_start_s),
      s2(nodeReady),
      s2(record.harness?.cluster_start_s),
      wall.toFixed(2),
      s2(v.figures.rto_s),
      v.rto_bound ? `${v.rto_bound.bound_s} (${v.rto_bound.formula})` : "—",
      phases ? [phases.detection_s, phases.election_s, phases.reconnection_s].map(s2).join(" / ") : "—",
      record.harness ? ((100 * record.harness.cpu_s) / wall).toFixed(1) : "—",
      v.verdict,
    ]);
    console.error(`done: ${benchCase.label} #${i}`);
  }
}
if (cases.length > 0) {
  table(rows);
  console.log(
    "targets: patroni healthy ≤ 8 s and scenario ≤ 25 s (local), healthy ≤ 12 s (docker); pg_auto_failover healthy ≤ 12 s",
  );
}

if (!values.quick && !values.reads) {
  const suite = loadSuite(new URL("../scenarios/certification.yaml", import.meta.url).pathname);
  const plan = buildPlan(suite.scenarios.map(loadScenario), {
    topologies: suite.topologies ?? undefined,
    backend: {},
    repeat: 1,
    seed: newSeed(),
  });
  const out = mkdtempSync(join(tmpdir(), "pgchaos-bench-certify-"));
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const { summary } = await executePlan(plan, {
    out,
    runs: plan.runs,
    workers: 1,
    keep: false,
    resume: false,
    shard: null,
    suite: {
      name: suite.name,
      file: suite.file,
      description: suite.description,
      thresholds: suite.thresholds,
    },
    reporters: [
      runFilesReporter,
      {
        name: "progress",
        onRunEnd: ({ run, report }) => console.error(`done: ${run.key} ${report.verification.verdict}`),
      },
    ],
  });
  const wall = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const records = summary.results.map((r) => r.report.record);
  console.log(
    `\ncertification (${plan.runs.length} runs, 1 repeat, seed ${plan.seed}): ${(wall / 60).toFixed(1)} min wall (target ≤ 15 min) · ${summary.groups.filter((g) => g.verdict === "pass").length} of ${summary.groups.length} scenario × topology held · results in ${out}`,
  );
  const perTopology = [...new Set(records.map((r) => r.topology))].map((topology) => {
    const mine = records.filter((r) => r.topology === topology && r.harness);
    const starts = mine.map((r) => r.harness?.cluster_start_s ?? 0).sort((a, b) => a - b);
    const own = mine
      .map(ownSeconds)
      .filter((x): x is number => x !== null)
      .sort((a, b) => a - b);
    const cpuShare = mine.map(
      (r) => (100 * (r.harness?.cpu_s ?? 0)) / (r.duration_s + (r.harness?.teardown_s ?? 0)),
    );
    const median = (xs: number[]) => xs[Math.max(0, Math.ceil(xs.length / 2) - 1)] ?? null;
    return [
      topology,
      String(mine.length),
      `${s2(starts[0])} / ${s2(median(starts))} / ${s2(starts.at(-1))}`,
      `${s2(own[0])} / ${s2(median(own))} / ${s2(own.at(-1))}`,
      `${s2(Math.min(...cpuShare))} / ${s2(Math.max(...cpuShare))}`,
    ];
  });
  table([
    [
      "topology",
      "runs",
      "cold start to healthy s (min/p50/max)",
      "harness own time s (min/p50/max)",
      "harness cpu % of a core (min/max)",
    ],
    ...perTopology,
  ]);
  console.log(
    `harness CPU over the suite: ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s over ${wall.toFixed(0)} s wall = ${((100 * (cpu.user + cpu.system)) / 1e6 / wall).toFixed(1)} % of one core (target ≤ 5 %); targets: cold start ≤ 5 s, own time ≤ 5 s`,
  );
}
// 3. Reads and transactions: the workload's throughput on a real cluster, then the checkers at scale.
{
  const scenario = loadScenario(new URL("../scenarios/stale-reads-replica.yaml", import.meta.url).pathname);
  const record = await runScenario(scenario, newRunId(), {
    topology: "patroni",
    backend: { kind: "local", stack: "bookworm", image: null },
    keep: false,
    logsDir: join(mkdtempSync(join(tmpdir(), "pgchaos-bench-")), "logs"),
    progress: () => {},
    seed: 1,
  });
  const stepAt = (text: string) =>
    record.timeline.find((e) => e.kind === "step" && e.text === text)?.at_ns ?? Number.NaN;
  const span = (stepAt("workload stopped") - stepAt("workload started")) / 1e9;
  const ops = record.history.length + record.reads.length;
  console.log(
    `workload: ${ops} operations (${record.history.length} writes, ${record.reads.length} reads) in ${span.toFixed(1)} s = ${(ops / span).toFixed(0)} ops/s with full history (target ≥ 2,000/s); harness CPU ${record.harness?.cpu_s.toFixed(1)} s`,
  );
  // Each history is built by its own case and dropped after it, so each checker is timed on a heap
  // that does not still hold the other's million operations.
  const timed = (label: string, prepare: () => () => unknown) => {
    const check = prepare();
    const started = performance.now();
    check();
    console.log(`${label}: ${((performance.now() - started) / 1000).toFixed(2)} s (target ≤ 5 s)`);
  };
  timed("read checks, 1,000,000 operations", () => {
    const history = syntheticReadHistory(1_000_000);
    return () => checkReads(history.writes, history.reads, history.final);
  });
  timed("list-append checker, 1,000,000 transactions", () => {
    const history = syntheticListAppendHistory(1_000_000);
    return () => checkListAppend(history);
  });
}
console.log(`harness peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MiB`);
