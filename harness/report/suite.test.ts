import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { RunReport } from "./reporter.ts";
import { type InvocationRun, renderIndex, toSummaryJson, writeInvocationReports } from "./suite.ts";
import { fixtureReport, splitFixtureReport } from "./test-fixture.ts";
import { parseXml } from "./test-xml.ts";

function run(
  scenario: string,
  topology: string,
  verdict: "pass" | "fail",
  rto: number | null,
): InvocationRun {
  const report: RunReport = fixtureReport();
  report.record.scenario = scenario;
  report.record.topology = topology;
  report.record.run_id = `${scenario}-${topology}`;
  report.verification.verdict = verdict;
  report.verification.figures.rto_s = rto;
  return { report, dir: `/out/${scenario}-${topology}-x` };
}

const RUNS = [
  run("kill-primary", "patroni", "pass", 9.39),
  run("kill-primary", "pg_auto_failover", "fail", 10.2),
  run("monitor-loss", "pg_auto_failover", "pass", 0.02),
];

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

describe("renderIndex", () => {
  const html = renderIndex(RUNS, "/out", "2025-01-01T13:00:00.000Z");

  it("says how the invocation went", () => {
    expect(html).toContain(`<header class="banner fail">`);
    expect(html).toContain("<b>2 / 3</b>runs passed");
    expect(html).toContain("<title>pgchaos · 2 passed, 1 failed</title>");
  });

  it("has a scenario × topology matrix whose cells link to each run's report", () => {
    expect(html).toContain("<th>scenario</th><th>patroni</th><th>pg_auto_failover</th>");
    expect(html).toContain(
      `<a class="cell pass" href="kill-primary-patroni-x/report.html" data-scenario="kill-primary" data-topology="patroni" data-run="kill-primary-patroni"><span class="pill pass">PASS</span><span class="fig" data-figure="rto_s">RTO 9.39 s</span><span class="fig" data-figure="lost_writes">lost 2</span></a>`,
    );
    expect(html).toContain(`<a class="cell fail" href="kill-primary-pg_auto_failover-x/report.html"`);
    // monitor-loss did not run on patroni.
    expect(html).toContain(`<td><span class="cell empty">not run</span></td>`);
  });

  it("compares a scenario run on several topologies: figures and aligned timelines", () => {
    expect(count(html, `<section class="panel comparison"`)).toBe(1);
    expect(html).toContain(`<section class="panel comparison" data-scenario="kill-primary">`);
    expect(html).toContain("kill-primary · 2 topologies side by side");
    // The lower RTO wins; lost writes are bad on both.
    expect(html).toMatch(/<td>RTO<\/td><td class="num best">9.39 s<\/td><td class="num">10.20 s<\/td>/);
    expect(html).toMatch(/<td>Lost writes<\/td><td class="num bad">2<\/td><td class="num bad">2<\/td>/);
    expect(count(html, `<div class="stacked-run"`)).toBe(2);
    expect(count(html, `<svg class="timeline"`)).toBe(2);
    // Zeroed at the fault (3 s into each run): the axis reads in seconds relative to it.
    expect(html).toContain(`>0 s</text>`);
    expect(html).toContain(`>+5 s</text>`);
  });

  it("names the diverged nodes in the cell and the comparison, and gives an unknown's reason on hover", () => {
    const split: InvocationRun = { report: splitFixtureReport(), dir: "/out/kill-primary-repmgr-x" };
    split.report.record.topology = "repmgr";
    split.report.verification.figures.lost_writes = null;
    split.report.verification.unknown.lost_writes = "the final primary could not be read";
    const page = renderIndex([RUNS[0] as InvocationRun, split], "/out", "now");
    expect(page).toContain(`<span class="fig bad" data-figure="diverged">diverged n2, n1</span>`);
    expect(page).toContain(
      `<span class="fig" data-figure="lost_writes" title="unknown: the final primary could not be read">lost —</span>`,
    );
    expect(page).toMatch(/<td>Diverged<\/td><td class="num">no<\/td><td class="num bad">n2, n1<\/td>/);
    expect(page).toMatch(
      /<td>Lost writes<\/td><td class="num bad">2<\/td><td class="num bad" title="unknown: the final primary could not be read">—<\/td>/,
    );
    expect(page).toMatch(
      /<td>WAL loss<\/td><td class="num[^"]*">368 B<\/td><td class="num bad" title="unknown: the promotion of n2 to timeline 2 has no fork LSN">—<\/td>/,
    );
  });

  it("links only to the runs' reports and fetches nothing", () => {
    for (const [, href] of html.matchAll(/\shref="([^"]*)"/g)) {
      expect(href).toMatch(/^(#[a-z]+|[\w.-]+\/report\.html)$/);
    }
    expect(html).not.toMatch(/https?:\/\//);
  });

  it("renders an invocation in which nothing finished", () => {
    expect(renderIndex([], "/out", "now")).toContain("No run finished in this invocation.");
  });
});

describe("toSummaryJson", () => {
  it("totals the runs and points at their files relative to the output directory", () => {
    const summary = toSummaryJson(RUNS, "/out", "2025-01-01T13:00:00.000Z");
    expect(summary.totals).toEqual({ runs: 3, passed: 2, failed: 1 });
    expect(summary.runs[1]).toMatchObject({
      scenario: "kill-primary",
      topology: "pg_auto_failover",
      verdict: "fail",
      dir: "kill-primary-pg_auto_failover-x",
      report: "kill-primary-pg_auto_failover-x/report.html",
      result: "kill-primary-pg_auto_failover-x/result.json",
      failed_expectations: [{ key: "lost_writes", expected: "0", actual: "2", pass: false }],
    });
    expect(summary.runs[0]?.figures.rto_s).toBe(9.39);
  });
});

describe("writeInvocationReports", () => {
  it("writes index.html, junit.xml and summary.json into the output directory", async () => {
    const out = await mkdtemp(join(tmpdir(), "pgchaos-suite-"));
    try {
      const runs = RUNS.map((r) => ({ ...r, dir: join(out, r.dir.slice("/out/".length)) }));
      const paths = await writeInvocationReports(runs, out, "2025-01-01T13:00:00.000Z");
      expect(paths).toEqual({
        index: join(out, "index.html"),
        junit: join(out, "junit.xml"),
        summary: join(out, "summary.json"),
      });
      expect(await readFile(paths.index, "utf8")).toContain(`href="kill-primary-patroni-x/report.html"`);
      expect(parseXml(await readFile(paths.junit, "utf8")).attrs.tests).toBe("3");
      const summary = JSON.parse(await readFile(paths.summary, "utf8"));
      expect(summary.totals).toEqual({ runs: 3, passed: 2, failed: 1 });
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
