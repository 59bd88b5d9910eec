import { describe, expect, it } from "vitest";
import { groupStatistics } from "../verify/aggregate.ts";
import type { GroupSummary, RunResult } from "./reporter.ts";
import { groupLines, groupsHtml } from "./statistics.ts";
import { fixtureReport, splitFixtureReport } from "./test-fixture.ts";

/** Two repeats of one group: one measured its WAL loss (368 B), the other could not and ended split. */
function group(): GroupSummary {
  const reports = [fixtureReport(), splitFixtureReport()];
  const results: RunResult[] = reports.map((report, i) => ({
    run: {
      key: `r${i + 1}`,
      group: "g",
      dir: `/out/r${i + 1}`,
      scenario: "kill-primary",
      topology: "patroni",
      backend: "local",
      stack: "bookworm",
      image: null,
      point: {},
      repeat: i + 1,
      seed: i,
    },
    report,
    dir: `/out/r${i + 1}`,
    reused: false,
  }));
  return {
    group: "g",
    scenario: "kill-primary",
    topology: "patroni",
    point: {},
    expect: {},
    results,
    missing: [],
    statistics: groupStatistics(reports.map((r) => r.verification)),
    expectations: [],
    verdict: "fail",
  };
}

describe("group statistics", () => {
  it("tallies divergence and says in how many runs a tallied figure was not measured", () => {
    const tallies = groupLines(group()).at(-1);
    expect(tallies).toContain("diverged in 1 of 2 runs");
    expect(tallies).toContain("wal loss in 1 of 2 runs (unknown in 1)");
    expect(tallies).toContain("lost writes in 2 of 2 runs");
    expect(tallies).not.toContain("lost writes in 2 of 2 runs (unknown");
    const html = groupsHtml([group()], (dir) => `${dir}/report.html`);
    expect(html).toContain("WAL loss in 1 of 2 runs (unknown in 1)</li>");
  });
});
