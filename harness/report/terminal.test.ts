import { describe, expect, it } from "vitest";
import { formatSummary, formatVerdict } from "./terminal.ts";
import { fixtureReport } from "./test-fixture.ts";

describe("formatVerdict", () => {
  it("prints one line per expectation with its mark, then the figures", () => {
    const report = fixtureReport();
    const text = formatVerdict(report, { color: false });
    const lines = text.split("\n");
    expect(lines[0]).toBe(`${report.verification.verdict.toUpperCase()}  kill-primary · patroni · local`);
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
});
