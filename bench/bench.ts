/**
 * npm run bench — prints figures, asserts nothing. Targets (issue 2): cold start to healthy ≤ 8 s;
 * the whole kill-primary scenario ≤ 25 s with ttl 5 / loop_wait 1 / retry_timeout 2 (Patroni's own
 * failover takes ~5.2 s at those settings, so the rest is the harness's).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { newRunId, runScenario } from "../harness/run/runner.ts";
import { loadScenario } from "../harness/scenario/scenario.ts";
import { verify } from "../harness/verify/index.ts";

const { values } = parseArgs({ options: { repeat: { type: "string", default: "1" } } });
const repeats = Number(values.repeat);

const base = loadScenario(new URL("../scenarios/kill-primary.yaml", import.meta.url).pathname);
const scenario = {
  ...base,
  cluster: { ...base.cluster, ha: { patroni: { ttl: 5, loop_wait: 1, retry_timeout: 2 } } },
};

const rows: string[][] = [["run", "healthy_s", "scenario_s", "rto_s", "lost", "promotions", "verdict"]];
const cpuBefore = process.cpuUsage();
const wallBefore = performance.now();
for (let i = 1; i <= repeats; i++) {
  const started = performance.now();
  const runId = newRunId();
  const record = await runScenario(scenario, runId, {
    topology: "patroni",
    keep: false,
    logsDir: join(mkdtempSync(join(tmpdir(), "pgchaos-bench-")), "logs"),
    progress: () => {},
  });
  const wall = (performance.now() - started) / 1000;
  const healthy = record.timeline.find((e) => e.kind === "step" && e.text.startsWith("cluster healthy"));
  const { figures, verdict } = verify(record);
  rows.push([
    String(i),
    healthy ? (healthy.at_ns / 1e9).toFixed(2) : "never",
    wall.toFixed(2),
    figures.rto_s?.toFixed(2) ?? "none",
    String(figures.lost_writes),
    String(figures.promotions),
    verdict,
  ]);
}
const cpu = process.cpuUsage(cpuBefore);
const wallTotal = (performance.now() - wallBefore) / 1000;

const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length))) ?? [];
for (const row of rows) console.log(row.map((cell, c) => cell.padStart(widths[c] ?? 0)).join("  "));
console.log(`\nkill-primary, Patroni 5/1/2, sync replication, ${repeats} run(s)`);
console.log("targets: healthy ≤ 8 s, scenario ≤ 25 s");
console.log(
  `harness CPU: ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s over ${wallTotal.toFixed(1)} s wall`,
);
console.log(`harness peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MiB`);
