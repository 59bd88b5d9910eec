import { describe, expect, it } from "vitest";
import { failureLines, renderJunit, xmlEscape } from "./junit.ts";
import type { RunReport } from "./reporter.ts";
import { fixtureReport, splitFixtureReport } from "./test-fixture.ts";
import { findAll, parseXml } from "./test-xml.ts";

function passing(topology: string): RunReport {
  const report = fixtureReport();
  report.record.topology = topology;
  report.record.problems = [];
  report.verification.verdict = "pass";
  report.verification.expectations = report.verification.expectations.map((e) => ({ ...e, pass: true }));
  return report;
}

describe("renderJunit", () => {
  const failing = fixtureReport();
  const xml = renderJunit(
    [
      { report: failing, dir: "/out/kill-primary-patroni-7f3a" },
      { report: passing("pg_auto_failover"), dir: "/out/kill-primary-pg_auto_failover-1b2c" },
    ],
    "/out",
  );
  const root = parseXml(xml);

  it("is well-formed XML with one suite and a testcase per scenario × topology", () => {
    expect(xml.startsWith(`<?xml version="1.0" encoding="UTF-8"?>`)).toBe(true);
    expect(root.name).toBe("testsuites");
    expect(root.attrs).toMatchObject({ name: "pgchaos", tests: "2", failures: "1", errors: "0" });
    const [suite] = findAll(root, "testsuite");
    expect(suite?.attrs).toMatchObject({ name: "pgchaos", tests: "2", failures: "1", time: "60.400" });
    expect(suite?.attrs.timestamp).toBe("2025-01-01T12:00:00.000Z");
    const cases = findAll(root, "testcase");
    expect(cases.map((c) => [c.attrs.classname, c.attrs.name, c.attrs.time])).toEqual([
      ["kill-primary", "patroni", "30.200"],
      ["kill-primary", "pg_auto_failover", "30.200"],
    ]);
  });

  it("gives a failed run a failure naming the broken expectations and the problems", () => {
    const [first, second] = findAll(root, "testcase");
    const failure = first?.children.find((c) => c.name === "failure");
    expect(failure?.attrs.message).toBe(
      "lost_writes: expected 0, actual 2; problem: replica n3 did not report its lag within 5 s after the heal",
    );
    expect(failure?.attrs.type).toBe("expectation");
    expect(failure?.text).toBe(
      "lost_writes: expected 0, actual 2\nproblem: replica n3 did not report its lag within 5 s after the heal",
    );
    expect(second?.children.map((c) => c.name)).toEqual(["system-out"]);
  });

  it("points each testcase at its report, relative to the output directory", () => {
    const out = findAll(root, "system-out").map((o) => o.text.split("\n")[0]);
    expect(out).toEqual([
      "report: kill-primary-patroni-7f3a/report.html",
      "report: kill-primary-pg_auto_failover-1b2c/report.html",
    ]);
  });

  it("lists the figures in each testcase's output, an unknown as a dash with its reason, and why writes were lost", () => {
    const [plain] = findAll(root, "system-out").map((o) => o.text.split("\n")[1]);
    expect(plain).toBe(
      "RTO 5.50 s · max write gap 5.60 s · lost 2 · unknown 1 · acknowledged 240 · WAL loss 368 B · promotions 1 · split-brain no · diverged no",
    );
    const split = parseXml(renderJunit([{ report: splitFixtureReport(), dir: "/o/x" }], "/o"));
    const [, figures, why] = findAll(split, "system-out")[0]?.text.split("\n") ?? [];
    expect(figures).toContain("WAL loss — (unknown: the promotion of n2 to timeline 2 has no fork LSN)");
    expect(figures).toContain("diverged yes");
    expect(figures).not.toContain("WAL loss 0");
    expect(why).toMatch(/^why: The run ended split: n2 and n1 were both writable/);
  });

  it("escapes markup and drops characters XML cannot carry", () => {
    const report = fixtureReport();
    report.record.scenario = `a<b>&"c'`;
    report.record.problems = ["bad\u0001byte & <tag>\nsecond line"];
    const parsed = parseXml(renderJunit([{ report, dir: "/o/x" }], "/o"));
    const [testcase] = findAll(parsed, "testcase");
    expect(testcase?.attrs.classname).toBe(`a<b>&"c'`);
    const failure = findAll(parsed, "failure")[0];
    expect(failure?.attrs.message).toContain("badbyte & <tag>\nsecond line");
    expect(xmlEscape("\u0000x\u000b")).toBe("x");
  });

  it("names a rerun of the same scenario × topology apart so CI keeps both", () => {
    const a = passing("patroni");
    const b = passing("patroni");
    b.record.run_id = "second";
    const names = findAll(
      parseXml(
        renderJunit(
          [
            { report: a, dir: "/o/a" },
            { report: b, dir: "/o/b" },
          ],
          "/o",
        ),
      ),
      "testcase",
    ).map((c) => c.attrs.name);
    expect(names).toEqual(["patroni", "patroni (second)"]);
  });

  it("is a valid empty suite when nothing ran", () => {
    const empty = parseXml(renderJunit([], "/o"));
    expect(empty.attrs.tests).toBe("0");
    expect(findAll(empty, "testcase")).toEqual([]);
  });
});

describe("failureLines", () => {
  it("says why even when a failed verdict carries no detail", () => {
    const report = passing("patroni");
    report.verification.verdict = "fail";
    expect(failureLines(report)).toEqual(["verdict fail"]);
  });
});

describe("parseXml (the tests' own parser)", () => {
  it.each([
    ["<a><b></a>", "closes"],
    ["<a x=1/>", "quoted"],
    ["<a>&nbsp;</a>", "unknown entity"],
    ["<a>x & y</a>", "bare &"],
    ["<a/><b/>", "after the root"],
    ["<a", "expected"],
  ])("rejects %j", (xml, message) => {
    expect(() => parseXml(xml)).toThrow(message);
  });

  it("reads attributes, text, references and CDATA", () => {
    const el = parseXml(
      `<?xml version="1.0"?><!-- c --><a k='v &amp; w'>x&#10;&#x41;<![CDATA[<raw>]]><b/></a>`,
    );
    expect(el).toEqual({
      name: "a",
      attrs: { k: "v & w" },
      text: "x\nA<raw>",
      children: [{ name: "b", attrs: {}, children: [], text: "" }],
    });
  });
});
