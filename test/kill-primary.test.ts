import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { leftovers, pgchaos, ROOT, runIdOf } from "./helpers.ts";

interface ResultJson {
  verdict: string;
  figures: Record<string, number | boolean | null>;
  expectations: { key: string; pass: boolean }[];
  lost_write_ids: number[];
  timeline: { kind: string; member?: string }[];
  versions: Record<string, string>;
}

describe("kill-primary on a real 3-node Patroni cluster (sync replication)", () => {
  const out = mkdtempSync(join(tmpdir(), "pgchaos-test-out-"));
  const run = pgchaos(["run", join(ROOT, "scenarios/kill-primary.yaml"), "--out", out]);
  const runId = runIdOf(run.stdout);
  const [dir] = readdirSync(out).filter((d) => d.includes(runId));
  const result = JSON.parse(readFileSync(join(out, dir as string, "result.json"), "utf8")) as ResultJson;
  writeFileSync(join(out, "stdout.txt"), run.stdout + run.stderr);

  it("passes every expectation and exits 0", () => {
    expect(result.expectations.filter((e) => !e.pass)).toEqual([]);
    expect(result.verdict).toBe("pass");
    expect(run.code).toBe(0);
  });

  it("measures a positive RTO below the expectation from the data", () => {
    const rto = result.figures.rto_s as number;
    expect(rto).toBeGreaterThan(0);
    expect(rto).toBeLessThan(30);
    // The new primary cannot accept writes before Patroni's leader lock (ttl 10) expires.
    expect(rto).toBeGreaterThan(2);
  });

  it("loses no acknowledged write under synchronous replication", () => {
    expect(result.figures.lost_writes).toBe(0);
    expect(result.lost_write_ids).toEqual([]);
    expect(result.figures.acknowledged_writes as number).toBeGreaterThan(100);
  });

  it("sees exactly one promotion and no split-brain", () => {
    expect(result.figures.promotions).toBe(1);
    expect(result.figures.split_brain).toBe(false);
    expect(result.timeline.filter((e) => e.kind === "promotion")).toHaveLength(1);
  });

  it("records the versions of the real components", () => {
    expect(result.versions.patroni).toMatch(/3\.0/);
    expect(result.versions.postgresql).toMatch(/15\./);
    expect(result.versions.etcd).toMatch(/3\.4/);
  });

  it("writes an HTML report", () => {
    const html = readFileSync(join(out, dir as string, "report.html"), "utf8");
    expect(html).toContain("kill-primary");
  });

  it("leaves no namespace, link, process, state file or work directory behind", () => {
    expect(leftovers(runId)).toEqual([]);
  });
});
