import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { PlanFile, PlanFileRun } from "../model/plan.ts";
import { summarizePlan } from "../run/summary.ts";
import { patroniRules } from "../topology/patroni/rules.ts";
import { verify } from "../verify/index.ts";
import { runRecord } from "../verify/test-helpers.ts";
import { renderCertification, toCertificationJson } from "./certification.ts";
import { jsonReporter } from "./json.ts";
import type { RunResult } from "./reporter.ts";
import { sweepFamilies, sweepHtml } from "./sweep.ts";

function planned(ttl: number, repeat: number): PlanFileRun {
  const group = `kill/patroni/patroni.ttl=${ttl}`;
  return {
    key: `${group}/r${repeat}`,
    group,
    dir: `kill-patroni-patroni.ttl=${ttl}-r${repeat}`,
    scenario: "kill",
    topology: "patroni",
    backend: "local",
    stack: "bookworm",
    image: null,
    point: { "patroni.ttl": ttl },
    repeat,
    seed: ttl * 10 + repeat,
  };
}

const suite = { name: "cert", file: "suite.yaml", description: "", thresholds: { failed_runs: 0 } };
const runs = [planned(10, 1), planned(20, 1)];
const plan: PlanFile = {
  plan_id: "abc",
  seed: 9,
  repeat: 1,
  shard: null,
  suite,
  runs,
  groups: runs.map((r) => ({
    group: r.group,
    scenario: r.scenario,
    topology: r.topology,
    point: r.point,
    expect: { failed_runs: 0 },
  })),
};

async function results(out: string, problemsOfSecond: string[]): Promise<RunResult[]> {
  return Promise.all(
    runs.map(async (run, i) => {
      const record = runRecord({
        topology: "patroni",
        settings: { patroni_dcs: { ttl: run.point["patroni.ttl"], loop_wait: 2 } },
        versions: { patroni: "3.0.2" },
        problems: i === 1 ? problemsOfSecond : [],
      });
      const report = { record, verification: verify(record, patroniRules) };
      const dir = join(out, run.dir);
      await jsonReporter.write(report, dir);
      return { run, report, dir, reused: false };
    }),
  );
}

describe("the certification summary", () => {
  it("certifies when every threshold held, and hashes the results it vouches for", async () => {
    const out = mkdtempSync(join(tmpdir(), "pgchaos-cert-"));
    const done = await results(out, []);
    const json = toCertificationJson(summarizePlan(plan, done), out, "2026-12-02T00:00:00Z");
    expect(json.certified).toBe(true);
    expect(json.content_hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(json.groups.map((g) => [g.group, g.certified])).toEqual([
      ["kill/patroni/patroni.ttl=10", true],
      ["kill/patroni/patroni.ttl=20", true],
    ]);
    // Touch one result and the hash no longer matches.
    writeFileSync(join(out, runs[1]?.dir ?? "", "result.json"), "{}\n");
    expect(toCertificationJson(summarizePlan(plan, done), out, "x").content_hash).not.toBe(json.content_hash);
  });

  it("names a failed run with its reasons and the command that replays it", async () => {
    const out = mkdtempSync(join(tmpdir(), "pgchaos-cert-"));
    const summary = summarizePlan(plan, await results(out, ["run crashed: no primary"]));
    const json = toCertificationJson(summary, out, "x");
    expect(json.certified).toBe(false);
    expect(json.failed_runs).toEqual([
      {
        key: "kill/patroni/patroni.ttl=20/r1",
        seed: 201,
        report: "kill-patroni-patroni.ttl=20-r1/report.html",
        reasons: ["run crashed: no primary"],
        replay: "pgchaos certify suite.yaml --seed 9 --only kill/patroni/patroni.ttl=20/r1",
      },
    ]);
    const html = renderCertification(json, summary, out);
    expect(html).toContain("NOT CERTIFIED");
    expect(html).toContain('href="kill-patroni-patroni.ttl=20-r1/report.html"');
  });

  it("plots a sweep: one slot per setting, each beside the bound its setting implies", async () => {
    const out = mkdtempSync(join(tmpdir(), "pgchaos-cert-"));
    const summary = summarizePlan(plan, await results(out, []));
    const families = sweepFamilies(summary.groups);
    expect(families.map((f) => [f.axis, f.groups.length])).toEqual([["patroni.ttl", 2]]);
    const html = sweepHtml(summary.groups);
    // Patroni's bound is ttl + loop_wait: 12 s and 22 s.
    expect(html).toContain("bound 12 s = ttl + loop_wait");
    expect(html).toContain("bound 22 s = ttl + loop_wait");
    expect(sweepHtml(summary.groups.slice(0, 1))).toBe("");
  });
});
