/**
 * The plan layer on real clusters: repeats with statistics, a crashing run that does not abort
 * the plan, an interrupted plan resumed, and shards merged into the plan they came from.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { SummaryJson } from "../harness/report/suite.ts";
import { ROOT, leftovers, pgchaos } from "./helpers.ts";

const STEADY = join(ROOT, "test/scenarios/steady.yaml");

function summaryOf(out: string): SummaryJson {
  return JSON.parse(readFileSync(join(out, "summary.json"), "utf8")) as SummaryJson;
}

function runIds(stdout: string): string[] {
  return [...stdout.matchAll(/\(run ([0-9a-f]{6})\)/g)].map((m) => m[1] as string);
}

const tmp = (name: string) => mkdtempSync(join(tmpdir(), `pgchaos-plan-${name}-`));

describe("a plan", () => {
  it("--repeat 3 gives each figure's spread over the runs, every run linked and replayable", () => {
    const out = tmp("repeat");
    const cli = pgchaos([
      "run",
      join(ROOT, "scenarios/kill-primary.yaml"),
      "--topology",
      "patroni",
      "--repeat",
      "3",
      "--seed",
      "11",
      "--out",
      out,
    ]);
    expect(cli.code, cli.stdout + cli.stderr).toBe(0);
    const plan = summaryOf(out).plan;
    expect(plan?.seed).toBe(11);
    expect(plan?.runs).toEqual([
      "kill-primary/patroni/r1",
      "kill-primary/patroni/r2",
      "kill-primary/patroni/r3",
    ]);
    const group = plan?.groups[0];
    expect(group?.statistics.runs).toBe(3);
    const rto = group?.statistics.spreads.rto;
    expect(rto?.min).toBeGreaterThan(5);
    // Nearest rank: p50 is the middle run, p95 of three the worst; min ≤ p50 ≤ p95 = max.
    expect(rto?.p50).toBeGreaterThanOrEqual(rto?.min ?? 0);
    expect(rto?.p95).toBe(rto?.max);
    const rtos = (group?.runs ?? []).map((run) => {
      const result = JSON.parse(readFileSync(join(out, run.result), "utf8"));
      expect(result.seed).toBe(run.seed);
      expect(result.plan.key).toBe(run.key);
      return result.figures.rto_s as number;
    });
    expect([...rtos].sort((a, b) => a - b)).toEqual([rto?.min, rto?.p50, rto?.max]);
    const index = readFileSync(join(out, "index.html"), "utf8");
    expect(index).toContain("Over repeats");
    for (const dir of ["kill-primary-patroni-r1", "kill-primary-patroni-r2", "kill-primary-patroni-r3"]) {
      expect(index).toContain(`href="${dir}/report.html"`);
      expect(existsSync(join(out, dir, "report.html"))).toBe(true);
    }
    expect(cli.stdout).toMatch(/RTO\s+min [\d.]+ s · p50 [\d.]+ s · p95 [\d.]+ s · max [\d.]+ s/);
    expect(cli.stdout).toContain("--seed 11 --only <key>");
    for (const id of runIds(cli.stdout)) expect(leftovers(id)).toEqual([]);
  });

  it("with a run that crashes still reports the others and exits 1", () => {
    const out = tmp("crash");
    const cli = pgchaos(["run", join(ROOT, "test/scenarios/overrun.yaml"), STEADY, "--out", out]);
    expect(cli.code, cli.stdout + cli.stderr).toBe(1);
    const summary = summaryOf(out);
    expect(summary.runs.map((r) => [r.scenario, r.verdict])).toEqual([
      ["overrun", "fail"],
      ["steady", "pass"],
    ]);
    expect(summary.runs[0]?.problems[0]).toBe(
      "run crashed: run exceeded the scenario's timeout of 25s and was torn down",
    );
    expect(existsSync(join(out, "overrun-patroni-r1", "report.html"))).toBe(true);
    const ids = runIds(cli.stdout);
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(leftovers(id)).toEqual([]);
  });

  it("interrupted by SIGINT resumes with only the missing runs; its shards merge into the same plan", async () => {
    const out = tmp("resume");
    const args = ["run", STEADY, "--repeat", "2", "--seed", "5", "--out", out];
    // First invocation: interrupted once the second run's workload is running.
    const first = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, [join(ROOT, "bin/pgchaos.js"), ...args], { cwd: ROOT });
      let stdout = "";
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
        if (runIds(stdout).length === 2 && stdout.split("workload running").length === 3 && !child.killed) {
          child.kill("SIGINT");
        }
      });
      child.on("close", (code) => resolve({ code, stdout }));
    });
    expect(first.code, first.stdout).toBe(130);
    const [firstId, interruptedId] = runIds(first.stdout);
    expect(leftovers(interruptedId ?? "")).toEqual([]);
    expect(existsSync(join(out, "steady-patroni-r1", "result.json"))).toBe(true);
    expect(existsSync(join(out, "steady-patroni-r2", "result.json"))).toBe(false);

    const resumed = pgchaos([...args, "--resume"]);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    // One new run: r2. r1 comes from the first invocation, under its own run id.
    expect(runIds(resumed.stdout)).toHaveLength(1);
    expect(resumed.stdout).toContain("steady-patroni-r1");
    expect(resumed.stdout).toContain("(from an earlier invocation)");
    const whole = summaryOf(out);
    expect(whole.runs.map((r) => r.run_id)[0]).toBe(firstId);
    expect(whole.plan?.groups[0]?.statistics.runs).toBe(2);

    // A resume of another command is refused, and names the fix.
    const other = pgchaos(["run", STEADY, "--repeat", "3", "--out", out, "--resume"]);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain("--seed 5");

    const shards = [1, 2].map((i) => {
      const dir = tmp(`shard${i}`);
      const cli = pgchaos(["run", STEADY, "--repeat", "2", "--seed", "5", "--shard", `${i}/2`, "--out", dir]);
      expect(cli.code, cli.stdout + cli.stderr).toBe(0);
      expect(runIds(cli.stdout)).toHaveLength(1);
      return dir;
    });
    const mergedDir = tmp("merged");
    const merged = pgchaos(["merge", ...shards, "--out", mergedDir]);
    expect(merged.code, merged.stdout + merged.stderr).toBe(0);
    const summary = summaryOf(mergedDir);
    expect(summary.plan?.id).toBe(whole.plan?.id);
    expect(summary.plan?.runs).toEqual(whole.plan?.runs);
    expect(summary.plan?.missing).toEqual([]);
    expect(summary.runs.map((r) => r.dir)).toEqual(["steady-patroni-r1", "steady-patroni-r2"]);
    expect(existsSync(join(mergedDir, "steady-patroni-r2", "report.html"))).toBe(true);
    // One shard alone is half a plan: merging it says so and fails.
    const half = pgchaos(["merge", shards[0] as string, "--out", tmp("half")]);
    expect(half.code).toBe(1);
    expect(half.stdout).toContain("not run: steady/patroni/r2");
  });

  it("--workers 2 runs two clusters at once, each on its own subnet, and marks both results", () => {
    const out = tmp("workers");
    const cli = pgchaos(["run", STEADY, "--repeat", "2", "--workers", "2", "--out", out]);
    expect(cli.code, cli.stdout + cli.stderr).toBe(0);
    const results = ["steady-patroni-r1", "steady-patroni-r2"].map((dir) =>
      JSON.parse(readFileSync(join(out, dir, "result.json"), "utf8")),
    );
    expect(results.map((r) => r.concurrency)).toEqual([2, 2]);
    const subnets = results.map((r) => r.members[0].address.split(".").slice(0, 3).join("."));
    expect(subnets[0]).not.toBe(subnets[1]);
    // Interleaved progress says whose line it is.
    expect(cli.stdout).toMatch(/steady\/patroni\/r2 \[\s*[\d.]+s\] cluster healthy/);
    for (const id of runIds(cli.stdout)) expect(leftovers(id)).toEqual([]);
  });
});
