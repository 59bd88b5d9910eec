import { describe, expect, it } from "vitest";
import { formatSummary, formatVerdict, useColor } from "./terminal.ts";
import { fixtureReport, splitFixtureReport } from "./test-fixture.ts";

describe("formatVerdict", () => {
  it("prints one line per expectation with its mark, then the figures", () => {
    const report = fixtureReport();
    const text = formatVerdict(report, { color: false });
    const lines = text.split("\n");
    expect(lines[0]).toBe(
      `${report.verification.verdict.toUpperCase()}  kill-primary · patroni · local · bookworm`,
    );
    for (const e of report.verification.expectations) {
      expect(text).toMatch(
        new RegExp(`${e.pass ? "✔" : "✘"} ${e.key}\\s+${e.expected.replace(/[<>]/g, ".")}\\s+${e.actual}`),
      );
    }
    expect(text).toContain(`${report.verification.figures.acknowledged_writes} acknowledged`);
    expect(text).not.toContain("\x1b[");
  });

  it("colours only when asked", () => {
    expect(formatVerdict(fixtureReport(), { color: true })).toContain("\x1b[");
  });
});

describe("formatSummary", () => {
  it("ends with the plain passed/failed count CI runners read", () => {
    const report = fixtureReport();
    const failing = { ...report, verification: { ...report.verification, verdict: "fail" as const } };
    const text = formatSummary([report, failing], { color: false });
    const passed = report.verification.verdict === "pass" ? 1 : 0;
    expect(text.split("\n").at(-1)).toBe(`${passed} passed, ${2 - passed} failed`);
  });

  it("puts each run's figures side by side in aligned columns", () => {
    const report = fixtureReport();
    const other = { ...report, record: { ...report.record, topology: "pg_auto_failover" } };
    const [first, second] = formatSummary([report, other], { color: false }).split("\n");
    const rto = report.verification.figures.rto_s?.toFixed(2);
    expect(first).toMatch(
      new RegExp(`kill-primary  patroni +RTO ${rto}s  lost ${report.verification.figures.lost_writes}`),
    );
    expect(second).toContain("kill-primary  pg_auto_failover  RTO");
    expect(first?.indexOf("RTO")).toBe(second?.indexOf("RTO"));
  });
});

describe("formatVerdict layout", () => {
  it("prints header, run line, expectations, two figure lines and problems", () => {
    const lines = formatVerdict(fixtureReport(), { color: false }).split("\n");
    expect(lines).toEqual([
      "FAIL  kill-primary · patroni · local · bookworm",
      "  run 20250101T120000Z-kill-primary-7f3a · 30.2 s · run seed 1",
      "  ✔ rto_s        <= 30  5.50",
      "  ✘ lost_writes  0      2",
      "  ✔ split_brain  false  false",
      "  ✔ promotions   1      1",
      "  RTO 5.50 s (bound 40 s) · max write gap 5.60 s · promotions 1 · split-brain no · dual primary 0.00 s",
      "  writes 240 acknowledged · 2 lost · 1 unknown · 25 failed · WAL loss 368 B",
      "  problems:",
      "    - replica n3 did not report its lag within 5 s after the heal",
    ]);
  });

  it("says so when there are no expectations and shows a split-brain window", () => {
    const report = fixtureReport();
    report.verification.expectations = [];
    report.verification.figures.split_brain = true;
    report.verification.figures.split_brain_window_s = 1.25;
    const text = formatVerdict(report, { color: false });
    expect(text).toContain("(no expectations)");
    expect(text).toContain("split-brain YES (window 1.25 s)");
  });

  it("shows the bound on the RTO line, yellow once exceeded, and nothing when there is none", () => {
    const report = fixtureReport();
    const [direct] = report.verification.paths;
    if (!report.verification.rto_bound || !direct) throw new Error("fixture has a bound and a path");
    // The one path's bound is the HA bound, as verify gives it.
    report.verification.rto_bound.bound_s = 5;
    direct.bound_s = 5;
    expect(formatVerdict(report, { color: true })).toContain("RTO 5.50 s \x1b[33m(bound 5 s)\x1b[0m");
    report.verification.rto_bound = null;
    direct.bound_s = null;
    expect(formatVerdict(report, { color: false })).toContain("  RTO 5.50 s · max write gap");
  });

  it("shows the HA bound beside a result without paths only when it had one path", () => {
    const report = fixtureReport();
    report.verification.paths = [];
    expect(formatVerdict(report, { color: false })).toContain("  RTO 5.50 s (bound 40 s) · ");
    report.record.entrypoints = ["direct", "dns"];
    expect(formatVerdict(report, { color: false })).toContain("  RTO 5.50 s · max write gap");
  });

  it("says why writes were lost, shows both sides of a split, each path beside its own bound, and an unknown as a dash with its reason", () => {
    const lines = formatVerdict(splitFixtureReport(), { color: false }).split("\n");
    expect(lines).toContain(
      "  why: The run ended split: n2 and n1 were both writable; n1's timeline 1 (2 acknowledged writes) are missing from the final primary n2",
    );
    expect(lines).toContain(
      "  RTO direct 5.50 s (bound 40 s), dns 45.95 s (bound 65 s) · max write gap 5.60 s · promotions 1 · split-brain no · dual primary 0.00 s",
    );
    expect(lines).toContain(
      "  writes 240 acknowledged · 2 lost · 1 unknown · 25 failed · WAL loss — (unknown: the promotion of n2 to timeline 2 has no fork LSN)",
    );
    expect(lines).toContain(
      "  diverged: n2, n1 · n2 (HA primary) lacks 2 acknowledged writes · n1 lacks 215 acknowledged writes",
    );
    expect(lines.join("\n")).not.toMatch(/WAL loss 0/);
  });

  it("names the diverged nodes and an unknown lost-writes count in the summary row", () => {
    const report = splitFixtureReport();
    report.verification.figures.lost_writes = null;
    report.verification.unknown.lost_writes = "the final primary could not be read";
    const [row] = formatSummary([report]).split("\n");
    expect(row).toContain("lost — (unknown: the final primary could not be read)");
    expect(row).toContain("diverged n2, n1");
    expect(formatSummary([fixtureReport()])).toContain("diverged no");
  });
});

describe("useColor", () => {
  it("colours a TTY unless NO_COLOR is set", () => {
    expect(useColor({ isTTY: true }, {})).toBe(true);
    expect(useColor({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    expect(useColor({ isTTY: false }, {})).toBe(false);
    expect(useColor({}, { FORCE_COLOR: "1" })).toBe(true);
  });
});
