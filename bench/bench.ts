/**
 * npm run bench — prints figures, asserts nothing (timings belong here, not in tests).
 * Targets: Patroni cold start to healthy ≤ 8 s and the whole kill-primary scenario ≤ 25 s at
 * ttl 5 / loop_wait 1 / retry_timeout 2 (Patroni's own failover takes ~5.2 s there);
 * pg_auto_failover cold start to primary + secondary ≤ 12 s; its kill-primary RTO with the default
 * and the tightened health checks, next to the bound those settings imply. The Patroni case also
 * runs on the Docker backend with built images (target: cold start to healthy ≤ 12 s) when an
 * engine and pgchaos/node:bookworm are there.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { BackendKind } from "../harness/backend/backend.ts";
import { dockerStatus } from "../harness/backend/docker.ts";
import { newRunId, runScenario } from "../harness/run/runner.ts";
import { type Scenario, loadScenario } from "../harness/scenario/scenario.ts";
import type { TopologyName } from "../harness/scenario/schema.ts";
import { verify } from "../harness/verify/index.ts";

const { values } = parseArgs({
  options: { repeat: { type: "string", default: "1" }, quick: { type: "boolean", default: false } },
});
const repeats = Number(values.repeat);

const base = loadScenario(new URL("../scenarios/kill-primary.yaml", import.meta.url).pathname);

interface Case {
  label: string;
  topology: TopologyName;
  backend: BackendKind;
  scenario: Scenario;
  /** What the settings imply for the HA manager's own failover time, in seconds. */
  bound: string;
}

const withHa = (nodes: number, ha: Scenario["cluster"]["ha"]): Scenario => ({
  ...base,
  cluster: { ...base.cluster, nodes, ha },
});

const fastPaf = base.cluster.ha.pg_auto_failover ?? {};
const patroniFast: Omit<Case, "label" | "backend"> = {
  topology: "patroni",
  scenario: withHa(3, { patroni: { ttl: 5, loop_wait: 1, retry_timeout: 2 } }),
  bound: "≤ ttl + loop_wait = 6 s",
};
const docker = await dockerStatus();
const dockerReady = docker.reachable && docker.images.some((i) => i.name === "pgchaos/node:bookworm" && i.id);
if (!dockerReady) console.error(`docker case skipped: ${docker.detail} (build images: bash docker/build.sh)`);
const cases: Case[] = [
  { label: "patroni 5/1/2 · local", backend: "local", ...patroniFast },
  ...(dockerReady ? [{ label: "patroni 5/1/2 · docker", backend: "docker" as const, ...patroniFast }] : []),
  {
    label: "pg_auto_failover fast, 2 nodes",
    backend: "local",
    topology: "pg_auto_failover",
    scenario: withHa(2, { pg_auto_failover: fastPaf }),
    bound: "≈ unhealthy 3 s + check 1 s + demote 5 s = 9 s",
  },
  ...(values.quick
    ? []
    : [
        {
          label: "pg_auto_failover defaults, 2 nodes",
          backend: "local" as const,
          topology: "pg_auto_failover" as const,
          scenario: withHa(2, { pg_auto_failover: {} }),
          bound: "≈ unhealthy 20 s + check 5 s + demote 30 s = 55 s",
        },
      ]),
];

const header = [
  "case",
  "run",
  "healthy_s",
  "scenario_s",
  "rto_s",
  "lost",
  "promotions",
  "verdict",
  "implied bound",
];
const rows: string[][] = [header];
const cpuBefore = process.cpuUsage();
const wallBefore = performance.now();
for (const benchCase of cases) {
  for (let i = 1; i <= repeats; i++) {
    const started = performance.now();
    const record = await runScenario(benchCase.scenario, newRunId(), {
      topology: benchCase.topology,
      backend: { kind: benchCase.backend, stack: "bookworm", image: null },
      keep: false,
      logsDir: join(mkdtempSync(join(tmpdir(), "pgchaos-bench-")), "logs"),
      progress: () => {},
      seed: i,
    });
    const wall = (performance.now() - started) / 1000;
    const healthy = record.timeline.find((e) => e.kind === "step" && e.text.startsWith("cluster healthy"));
    const { figures, verdict } = verify(record);
    rows.push([
      benchCase.label,
      String(i),
      healthy ? (healthy.at_ns / 1e9).toFixed(2) : "never",
      wall.toFixed(2),
      figures.rto_s?.toFixed(2) ?? "none",
      String(figures.lost_writes),
      String(figures.promotions),
      verdict,
      benchCase.bound,
    ]);
    console.error(`done: ${benchCase.label} #${i}`);
  }
}
const cpu = process.cpuUsage(cpuBefore);
const wallTotal = (performance.now() - wallBefore) / 1000;

const widths = header.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join("  "));
console.log(
  "\ntargets: patroni healthy ≤ 8 s and scenario ≤ 25 s (local), healthy ≤ 12 s (docker); pg_auto_failover healthy ≤ 12 s",
);
console.log(
  `harness CPU: ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s over ${wallTotal.toFixed(1)} s wall`,
);
console.log(`harness peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MiB`);
