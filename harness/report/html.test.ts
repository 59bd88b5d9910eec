import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { escapeHtml, htmlReporter, renderHtml } from "./html.ts";
import type { RunReport } from "./reporter.ts";
import { FIXTURE_SECRETS, fixtureReport } from "./test-fixture.ts";

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

describe("escapeHtml", () => {
  it("escapes the five HTML-significant characters", () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  });
});

describe("renderHtml", () => {
  const html = renderHtml(fixtureReport());

  it("is a complete page with the verdict banner", () => {
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).toContain(`<header class="banner fail">`);
    expect(html).toContain(`<div class="verdict">FAIL</div>`);
    expect(html).toContain("<h1>kill-primary</h1>");
    expect(html).toContain("20250101T120000Z-kill-primary-7f3a");
  });

  it("shows PASS in green when the run passed", () => {
    const report = fixtureReport();
    report.verification.verdict = "pass";
    const page = renderHtml(report);
    expect(page).toContain(`<header class="banner pass">`);
    expect(page).toContain(`<div class="verdict">PASS</div>`);
  });

  it("has one row per expectation with expected, actual and a badge", () => {
    const report = fixtureReport();
    for (const e of report.verification.expectations) {
      const row = html.match(new RegExp(`<tr class="(pass|fail)" data-key="${e.key}">[\\s\\S]*?</tr>`));
      expect(row?.[1]).toBe(e.pass ? "pass" : "fail");
      expect(row?.[0]).toContain(`<td>${escapeHtml(e.expected)}</td><td>${escapeHtml(e.actual)}</td>`);
      expect(row?.[0]).toContain(e.pass ? ">PASS</span>" : ">FAIL</span>");
    }
  });

  it("shows the key figures as cards", () => {
    for (const label of [
      "RTO",
      "Max write gap",
      "Lost writes",
      "Unknown writes",
      "Acknowledged writes",
      "WAL loss",
    ]) {
      expect(html).toContain(`<div class="label">${label}</div>`);
    }
    expect(html).toContain(`<div class="value">5.50 s</div>`);
    expect(html).toContain(`<div class="value">368 B</div>`);
    expect(html).toContain(
      `<div class="card bad"><div class="label">Lost writes</div><div class="value">2</div>`,
    );
  });

  it("draws a lane for every member", () => {
    for (const m of fixtureReport().record.members)
      expect(html).toContain(`<g class="lane" data-member="${m.name}">`);
    expect(count(html, `<g class="lane"`)).toBe(6);
    // n1 goes primary → down → replica; n2 replica → primary.
    expect(html).toMatch(/data-member="n1">[\s\S]*?r-primary[\s\S]*?r-down[\s\S]*?r-replica[\s\S]*?<\/g>/);
  });

  it("shades the kill fault from inject to heal and marks the promotion", () => {
    expect(count(html, `<g class="fault-band"`)).toBe(1);
    expect(html).toContain(`data-fault="kill" data-target="primary"`);
    expect(html).toContain("3.000 s – 20.000 s");
    expect(html).toContain(`class="band-edge heal"`);
    expect(count(html, `<g class="promotion-marker"`)).toBe(1);
    expect(html).toMatch(/<g class="promotion-marker" data-member="n2">\s*<title>n2 promoted to timeline 2/);
  });

  it("draws the workload strip: acknowledged bars and failed / unknown ticks", () => {
    expect(count(html, `class="bar-ok"`)).toBe(240);
    expect(count(html, `class="tick-unknown"`)).toBe(1);
    expect(count(html, `class="tick-fail"`)).toBe(25);
  });

  it("lists lost and unknown ids, and the events without role sampling noise", () => {
    expect(html).toContain(`<h3>Lost (2)</h3><p class="ids">24, 25</p>`);
    expect(html).toContain(`<h3>Unknown outcome (1)</h3><p class="ids">26</p>`);
    expect(html).toContain("acquired session lock as a leader");
    expect(html).toContain("promoted to timeline 2 forked at 0/5030E50");
    expect(html).toContain(`<td class="num">8.200</td>`);
  });

  it("truncates long id lists after 200", () => {
    const report = fixtureReport();
    report.verification.lost_write_ids = Array.from({ length: 250 }, (_, i) => i + 1);
    const page = renderHtml(report);
    expect(page).toContain('199, 200 <span class="more">… and 50 more</span>');
    expect(page).not.toContain(", 201");
  });

  it("lists problems", () => {
    expect(html).toContain(`<section class="panel problems">`);
    expect(html).toContain("<li>replica n3 did not report its lag within 5 s after the heal</li>");
  });

  it("shows versions and settings, with secrets masked", () => {
    expect(html).toContain('<code>patroni</code></td><td class="mono">4.0.4</td>');
    expect(html).toContain('<code>maximum_lag_on_failover</code></td><td class="mono">1048576</td>');
    for (const secret of FIXTURE_SECRETS) expect(html).not.toContain(secret);
    expect(html).toContain("postgres://app:********@n1:5432/app");
  });

  it("is self-contained: no external URLs, no scripts, no linked resources", () => {
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/\s(src|href)\s*=/i);
    expect(html).not.toMatch(/url\(|@import/i);
    expect(html).not.toContain("<script");
    expect(html).not.toContain("NaN");
    expect(html).not.toContain("undefined");
  });

  it("escapes text from the run", () => {
    const report = fixtureReport();
    report.record.scenario = "<script>alert(1)</script>";
    report.record.members[0] = { name: `n1"><b>`, kind: "postgres", address: "x" };
    report.verification.expectations[0] = { key: "<k>", expected: "< 30", actual: "a & b", pass: true };
    const page = renderHtml(report);
    expect(page).not.toContain("<script");
    expect(page).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(page).toContain(`data-member="n1&quot;&gt;&lt;b&gt;"`);
    expect(page).toContain("<td>&lt; 30</td><td>a &amp; b</td>");
  });

  it("renders an empty run without errors", () => {
    const report = fixtureReport();
    const empty: RunReport = {
      record: { ...report.record, duration_s: 0, members: [], history: [], timeline: [], problems: [] },
      verification: {
        ...report.verification,
        expectations: [],
        promotions: [],
        rto_per_fault: [],
        lost_write_ids: [],
        unknown_write_ids: [],
        problems: [],
        figures: { ...report.verification.figures, rto_s: null, max_write_gap_s: null },
      },
    };
    const page = renderHtml(empty);
    expect(page).not.toContain("NaN");
    expect(page).not.toContain("Infinity");
    expect(page).not.toContain(`class="panel problems"`);
    expect(page).toContain("no members recorded");
    expect(page).toContain("no fault injected");
  });
});

describe("htmlReporter", () => {
  it("writes report.html", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pgchaos-html-"));
    try {
      const report = fixtureReport();
      const paths = await htmlReporter.write(report, dir);
      expect(paths).toEqual([join(dir, "report.html")]);
      expect(await readFile(join(dir, "report.html"), "utf8")).toBe(renderHtml(report));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
