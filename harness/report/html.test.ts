import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { acked, readOp } from "../verify/read-helpers.ts";
import { checkReads } from "../verify/reads.ts";
import { ID_LIST_LIMIT, escapeHtml, htmlReporter, keyMoments, renderHtml } from "./html.ts";
import type { NodeLog } from "./logs.ts";
import type { RunReport } from "./reporter.ts";
import { FIXTURE_SECRETS, fixtureReport, splitFixtureReport } from "./test-fixture.ts";

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

  it("shows the key figures as cards, with the raw value for machines", () => {
    for (const label of [
      "RTO",
      "Max write gap",
      "Write blocked",
      "Acknowledged writes",
      "Lost writes",
      "Unknown writes",
      "WAL loss",
      "Promotions",
      "Split-brain window",
      "Old-primary rejoin",
    ]) {
      expect(html).toContain(`<div class="label">${label}</div>`);
    }
    expect(html).toContain(`<div class="value">5.50 s</div>`);
    expect(html).toContain(`<div class="value">368 B</div>`);
    expect(html).toMatch(
      /<div class="card bad" data-figure="lost_writes" data-value="2"[^>]*><div class="label">Lost writes<\/div><div class="value">2<\/div>/,
    );
    expect(html).toContain(`data-figure="rto_s" data-value="5.504"`);
    expect(html).toContain("how long writes were impossible");
  });

  it("shows write blocked and old-primary rejoin only when verify measured them", () => {
    const report = fixtureReport();
    const unmeasured = { ...report.verification.figures, write_blocked_s: null, old_primary_rejoin_s: null };
    expect(renderHtml({ ...report, verification: { ...report.verification, figures: unmeasured } })).toMatch(
      /data-figure="write_blocked_s"[^>]*><div class="label">Write blocked<\/div><div class="value absent">—/,
    );
    const figures = { ...report.verification.figures, write_blocked_s: 1.25, old_primary_rejoin_s: 7.5 };
    const page = renderHtml({ ...report, verification: { ...report.verification, figures } });
    expect(page).toContain(`data-figure="write_blocked_s" data-value="1.25"`);
    expect(page).toContain(`data-figure="old_primary_rejoin_s" data-value="7.5"`);
    expect(page).toContain(`<div class="value">7.50 s</div>`);
  });

  it("lists the key moments in order: fault, outage, promotion, recovery, heal", () => {
    const moments = keyMoments(fixtureReport()).map((m) => [Number((m.at_ns / 1e9).toFixed(3)), m.html]);
    expect(moments).toEqual([
      [0.5, "first write of the workload"],
      [3, "<b>kill</b> primary → n1 injected"],
      [3, "writes impossible from here"],
      [8.2, "<b>n2</b> promoted to timeline 2, forked at 0/5030E50"],
      [8.504, "first new write acknowledged · <b>RTO 5.50 s</b>"],
      [20, "kill primary healed"],
    ]);
  });

  it("tabulates RTO per fault with when writes became impossible", () => {
    expect(html).toMatch(
      /<table class="rto-table">[\s\S]*?<td class="num">3.000<\/td><td class="num">3.000<\/td><td class="num">8.504<\/td><td class="num">20.000<\/td><td class="num"><b>5.504 s<\/b>/,
    );
  });

  it("shows each phase of the RTO beside its share of the bound, and the bound itself", () => {
    // Fixture: detection 4.9 s of a 40 s detection share (ttl + loop_wait), election 0.3 s of none.
    expect(html).toContain('<th class="num" title="Writes impossible');
    expect(html).toMatch(
      /data-phase="detection" title="ended by n2: acquired session lock as a leader">4\.90 s<span class="muted"> \/ 40 s<\/span>/,
    );
    expect(html).toMatch(/data-phase="election" title="[^"]*">0\.30 s<span class="muted"> \/ 0 s<\/span>/);
    expect(html).toMatch(
      /data-phase="reconnection" title="[^"]*">0\.30 s<span class="muted"> \/ 0 s<\/span>/,
    );
    expect(html).toContain("Bound the settings imply: <b>40 s</b> = ttl 30 s + loop_wait 10 s.");
  });

  it("flags a phase over its share, leaves unrecorded ones blank and says when there is no bound", () => {
    const report = fixtureReport();
    const [fault] = report.verification.rto_per_fault;
    if (!fault?.phases || !report.verification.rto_bound) throw new Error("fixture has phases and a bound");
    report.verification.rto_bound.share_s.detection = 4;
    fault.phases.election_s = null;
    const page = renderHtml(report);
    expect(page).toContain('<td class="num warn" data-phase="detection"');
    expect(page).toMatch(/data-phase="election" title="[^"]*">—<span class="muted"> \/ 0 s<\/span>/);
    // Without a reaction, detection and election read as one span to the promotion.
    fault.phases.detection_s = null;
    expect(renderHtml(report)).toMatch(
      /<td class="num warn" colspan="2" data-phase="until_promotion" title="no reaction recorded: [^"]*">5\.20 s<span class="muted"> \/ 4 s<\/span>/,
    );
    fault.phases.detection_s = 4.9;
    // A path with no reconnection of its own (it wrote again before the recorded promotion) shows
    // none, not another path's.
    const [outage] = report.verification.outages;
    if (!outage) throw new Error("fixture has an outage");
    fault.phases.reconnection_per_entrypoint = { [outage.group]: null, other: 28.35 };
    fault.phases.reconnection_s = 28.35;
    expect(renderHtml(report)).toMatch(
      /data-phase="reconnection" title="[^"]*">—<span class="muted"> \/ 0 s<\/span>/,
    );
    report.verification.rto_bound = null;
    const unbound = renderHtml(report);
    expect(unbound).toContain("No RTO bound: none can be derived from this run's HA settings.");
    expect(unbound).toMatch(/data-phase="detection" title="[^"]*">4\.90 s<\/td>/);
  });

  it("draws a lane for every member, and the HA status lane when the manager reported one", () => {
    for (const m of fixtureReport().record.members)
      expect(html).toContain(`<g class="lane" data-member="${m.name}">`);
    expect(count(html, `<g class="lane" data-member=`)).toBe(6);
    // n1 goes primary → down → replica; n2 replica → primary.
    expect(html).toMatch(/data-member="n1">[\s\S]*?r-primary[\s\S]*?r-down[\s\S]*?r-replica[\s\S]*?<\/g>/);
    expect(html).not.toContain(`data-lane="ha-status"`);
    const report = fixtureReport();
    report.record.timeline.push(
      { at_ns: 1e9, kind: "ha", source: "patroni status", member: null, text: "complete (primary n1)" },
      { at_ns: 4e9, kind: "ha", source: "patroni status", member: null, text: "no primary" },
    );
    const page = renderHtml(report);
    expect(page).toContain(`data-lane="ha-status"`);
    expect(page).toMatch(/data-state="complete"[\s\S]*?data-state="no-primary"/);
  });

  it("marks HA-manager events on their member's lane", () => {
    expect(count(html, `class="ha-mark"`)).toBe(2);
    expect(html).toContain("7.900 s · patroni · n2\nacquired session lock as a leader");
  });

  it("shades the kill fault in its kind's colour from inject to heal and marks the promotion", () => {
    // Once on the timeline, once on the workload chart.
    expect(count(html, `<g class="fault-band" data-fault="kill"`)).toBe(2);
    expect(html).toContain(`data-fault="kill" data-target="primary" style="--fc:#e5484d"`);
    expect(html).toContain("3.000 s – 20.000 s");
    expect(html).toContain(`class="band-edge heal"`);
    expect(count(html, `<g class="promotion-marker"`)).toBe(1);
    expect(html).toMatch(/<g class="promotion-marker" data-member="n2">\s*<title>n2 promoted to timeline 2/);
  });

  it("draws the workload chart: writes/s, latency p50 and p99, failed and unknown ticks, RTO", () => {
    expect(html).toContain(`<svg class="workload-chart"`);
    expect(count(html, `class="rate-area"`)).toBe(1);
    expect(count(html, `<path class="lat-p50"`)).toBe(1);
    expect(count(html, `<path class="lat-p99"`)).toBe(1);
    expect(count(html, `class="tick-unknown"`)).toBe(1);
    expect(count(html, `class="tick-fail"`)).toBe(25);
    expect(html).toContain(`<g class="rto-bracket" data-fault="kill" data-group="direct">`);
    expect(html).toContain("p50 4.0 ms · p99 4.0 ms");
  });

  it("lists lost and unknown writes with when, where and at which LSN they were answered", () => {
    expect(html).toContain(`<h3>Lost (2)</h3><p class="ids">24, 25</p>`);
    expect(html).toContain(`<h3>Unknown outcome (1)</h3><p class="ids">26</p>`);
    expect(html).toContain(
      `<tr data-id="24"><td class="num">24</td><td>lost</td><td>w1</td><td class="num">2.800</td><td class="num">2.804</td><td>n1</td><td class="num">1</td><td class="mono">0/5030508</td>`,
    );
    expect(html).toContain(`<td>unknown</td><td>w1</td><td class="num">2.995</td>`);
  });

  it("shows each node's last LSN, timeline and the fork point of its timeline", () => {
    expect(html).toMatch(
      /<tr data-member="n2"><td><code>n2<\/code> <span class="badge pass">final primary<\/span><\/td><td>primary<\/td><td class="num">2<\/td><td class="mono">0\/6A00148<\/td><td class="mono">0\/5030E50/,
    );
    expect(html).toContain("timeline 2 forked from timeline 1 at <code>0/5030E50</code>");
  });

  it("merges every event into one table with its source", () => {
    expect(html).toContain(
      `<td class="src">patroni</td><td><span class="kind ha">ha</span></td><td>n2</td><td>acquired session lock as a leader</td>`,
    );
    expect(html).toContain(`<td class="src">sampler (outside)</td>`);
    expect(html).toContain(`<td class="src">pgchaos</td><td><span class="kind fault">fault</span>`);
    expect(html).toContain("promoted to timeline 2 forked at 0/5030E50");
    expect(html).toContain(`<td class="num">8.200</td>`);
    expect(html).toContain(`<input type="checkbox" data-kind="role" checked>role changes`);
  });

  it("truncates long id lists after 200", () => {
    const report = fixtureReport();
    report.verification.lost_write_ids = Array.from({ length: 250 }, (_, i) => i + 1);
    const page = renderHtml(report);
    expect(page).toContain('199, 200 <span class="more">… and 50 more</span>');
    expect(page).not.toContain(", 201");
    expect(page).toContain("… and 50 more lost writes (all ids are in result.json)");
  });

  it("lists problems", () => {
    expect(html).toContain(`<section class="panel problems">`);
    expect(html).toContain("<li>replica n3 did not report its lag within 5 s after the heal</li>");
  });

  it("shows versions and settings flattened by path, with secrets masked", () => {
    expect(html).toContain('<code>patroni</code></td><td class="mono">4.0.4</td>');
    expect(html).toContain('<code>maximum_lag_on_failover</code></td><td class="mono">1048576</td>');
    expect(html).toContain(`<tr class="group"><td colspan="2"><code>postgresql</code></td></tr>`);
    expect(html).toContain(
      `<code><span class="muted">parameters.<wbr></span>wal_level</code></td><td class="mono">replica</td>`,
    );
    for (const secret of FIXTURE_SECRETS) expect(html).not.toContain(secret);
    expect(html).toContain("postgres://app:********@n1:5432/app");
  });

  it("shows the scenario source and description when the CLI passed them, masked", () => {
    expect(html).toContain("Scenario source not recorded");
    const report = fixtureReport();
    report.scenarioSource = "name: kill-primary\nsecrets:\n  password: hunter2\n";
    report.scenarioDescription = "Hard crash of the primary.";
    const page = renderHtml(report);
    expect(page).toContain(`<p class="desc">Hard crash of the primary.</p>`);
    expect(page).toContain("name: kill-primary\nsecrets:\n  password: ********\n");
    expect(page).not.toContain("hunter2");
  });

  it("shows node log excerpts, collapsible, with fault markers between the lines", () => {
    expect(html).toContain("No node logs were copied for this run.");
    const logs: NodeLog[] = [
      {
        member: "n1",
        part: "",
        file: "logs/n1.log",
        total_lines: 10,
        omitted: 0,
        window: { from_ns: 0, to_ns: 50e9 },
        lines: [
          { at_ns: 2.5e9, resolution_ns: 1e6, text: "LOG:  checkpoint", level: "" },
          { at_ns: 3.01e9, resolution_ns: 1e6, text: "FATAL:  terminating", level: "error" },
          { at_ns: 19.5e9, resolution_ns: 1e9, text: "INFO  restarting", level: "" },
          { at_ns: 21e9, resolution_ns: 1e9, text: "WARN  restarted", level: "warn" },
        ],
      },
    ];
    const page = renderHtml(fixtureReport(), { logs });
    expect(page).toMatch(
      /<details class="node-log" data-member="n1"><summary>n1<span class="muted">4 of 10 lines · logs\/n1.log<\/span> <span class="errs">1 error<\/span> <span class="warns">1 warning<\/span><\/summary>/,
    );
    // The heal at 20 s may come after a line stamped "second 19.5–20.5": the marker goes first.
    const order = [
      "LOG:  checkpoint",
      "inject kill on primary",
      "FATAL:  terminating",
      "heal kill on primary",
      "INFO  restarting",
      "WARN  restarted",
    ];
    const section = page.slice(page.indexOf(`id="logs"`));
    const at = order.map((text) => section.indexOf(text));
    expect(at.every((i) => i > 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(section).toContain(
      `<span class="lt" title="stamped to the second: between 21.000 and 22.000 s">~21.0</span>`,
    );
  });

  it("is self-contained: nothing to fetch, only in-page links, a CSP that forbids fetching", () => {
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/\ssrc\s*=/i);
    for (const [, href] of html.matchAll(/\shref="([^"]*)"/g)) expect(href).toMatch(/^#[a-z]+$/);
    expect(html).not.toMatch(/url\(|@import/i);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none';`);
    expect(count(html, "<script")).toBe(1);
    expect(html).toContain("<script>(function () {");
    expect(html).not.toContain("NaN");
    expect(html).not.toContain("undefined");
  });

  it("escapes text from the run", () => {
    const report = fixtureReport();
    report.record.scenario = "<script>alert(1)</script>";
    report.record.members[0] = { name: `n1"><b>`, kind: "postgres", address: "x" };
    report.verification.expectations[0] = { key: "<k>", expected: "< 30", actual: "a & b", pass: true };
    const page = renderHtml(report);
    expect(page).not.toContain("<script>alert");
    expect(count(page, "<script")).toBe(1);
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
        outages: [],
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
    expect(page).toContain("No acknowledged write was lost");
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

  it("reads the node logs copied beside it and masks their passwords", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pgchaos-html-"));
    try {
      await mkdir(join(dir, "logs"));
      await writeFile(
        join(dir, "logs", "n1.log"),
        '{"level":"info","ts":"2025-01-01T12:00:04.100Z","msg":"following n1"}\n' +
          "2025-01-01 12:00:04.200 UTC [7] FATAL:  password=hunter2 refused\n",
      );
      await htmlReporter.write(fixtureReport(), dir);
      const page = await readFile(join(dir, "report.html"), "utf8");
      expect(page).toContain(
        `<span class="lt">4.100</span><span class="lx">{&quot;level&quot;:&quot;info&quot;`,
      );
      expect(page).toContain("password=******** refused");
      expect(page).not.toContain("hunter2");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("outages and split-brain from verify", () => {
  function throughTwoPaths(): RunReport {
    const report = fixtureReport();
    const [direct] = report.verification.outages;
    if (!direct) throw new Error("fixture has an outage");
    report.verification.outages.push({ ...direct, group: "haproxy", end_ns: 10.25e9 });
    return report;
  }

  it("names the entry point of each outage when clients wrote through several", () => {
    const moments = keyMoments(throughTwoPaths()).map((m) => m.html);
    expect(moments).toContain("writes impossible through haproxy from here");
    expect(moments).toContain("first new write acknowledged through haproxy · <b>RTO 7.25 s</b>");
    expect(moments).toContain("first new write acknowledged through direct · <b>RTO 5.50 s</b>");
  });

  it("tabulates and draws one outage per fault and entry point", () => {
    const page = renderHtml(throughTwoPaths());
    expect(page).toContain("<th>entry point</th>");
    expect(page).toMatch(
      /<td><code>haproxy<\/code><\/td><td class="num">3.000<\/td><td class="num">3.000<\/td><td class="num">10.250<\/td>/,
    );
    expect(count(page, `<g class="rto-bracket" data-fault="kill" data-group="haproxy">`)).toBe(1);
    expect(page).toContain("RTO 7.25 s · haproxy");
  });

  it("draws the split-brain intervals verify found, not its own reading of the samples", () => {
    // The synthetic fixture samples etcd's leader as primary; verify's verdict is what counts.
    expect(renderHtml(fixtureReport())).not.toContain(`<g class="split-brain"`);
    const report = fixtureReport();
    report.verification.split_brain.intervals = [
      { start_ns: 8.25e9, end_ns: 9e9, members: ["n1", "n2"], source: "acknowledged" },
    ];
    const page = renderHtml(report);
    expect(count(page, `<g class="split-brain" data-source="acknowledged">`)).toBe(1);
    expect(page).toContain("split-brain: n1 and n2 both committed writes\n8.250 – 9.000 s");
    expect(page).toContain("split-brain: n1 + n2");
  });

  it("draws a dual primary from the samples as its own kind", () => {
    const report = fixtureReport();
    report.verification.dual_primary.intervals = [
      { start_ns: 8.25e9, end_ns: 9e9, members: ["n1", "n2"], source: "sampled" },
    ];
    const page = renderHtml(report);
    expect(count(page, `<g class="split-brain" data-source="sampled">`)).toBe(1);
    expect(page).toContain("dual primary: n1 and n2 both sampled primary\n8.250 – 9.000 s");
  });
});

describe("per writer group", () => {
  it("tabulates the groups' figures when clients wrote through more than one path", () => {
    expect(renderHtml(fixtureReport())).not.toContain("Per writer group");
    const report = fixtureReport();
    const direct = report.verification.figures.groups.direct;
    if (!direct) throw new Error("fixture has a direct group");
    report.verification.figures.groups.haproxy = { ...direct, rto_s: 7.25, lost_writes: 0 };
    const page = renderHtml(report);
    expect(page).toContain('<h3 style="margin-top:18px">Per writer group</h3>');
    expect(page).toContain(
      `<tr data-group="haproxy"><td><code>haproxy</code></td><td class="num">7.25 s</td>`,
    );
    expect(page).toContain(`<td class="num bad">2</td>`);
  });
});

describe("no passwords anywhere", () => {
  it("masks credentials quoted by the HA manager, errors and problems", () => {
    const report = fixtureReport();
    report.record.timeline.push({
      at_ns: 21e9,
      kind: "ha",
      source: "patroni",
      member: "n1",
      text: "running pg_rewind from dbname=postgres user=rewinder password=hunter2 host=n2",
    });
    report.record.problems.push("could not connect to postgres://app:hunter2@n2/app");
    const op = report.record.history.find((o) => o.outcome === "fail");
    if (op) op.error = "connection to password=hunter2 failed";
    const page = renderHtml(report);
    expect(page).not.toContain("hunter2");
    expect(page).toContain("user=rewinder password=******** host=n2");
  });
});

describe("what clients read", () => {
  it("is absent without readers or transactions", () => {
    expect(renderHtml(fixtureReport())).not.toContain('id="reads"');
  });

  it("shows the read figures from verify and lists each stale read and read of lost data", () => {
    const report = fixtureReport();
    const writes = [acked("direct/w1", 1, 0, 0.1), acked("direct/w1", 2, 0.2, 0.3)];
    const reads = [
      readOp("direct/replica/r1", "replica", 0.5, 0.6, { "direct/w1": 1 }, { node: "n3", lsn: "0/1" }),
      readOp("direct/r1", "primary", 0.7, 0.8, { "direct/w1": 2 }),
    ];
    report.verification.reads = checkReads(writes, reads, [1]);
    report.verification.figures = {
      ...report.verification.figures,
      reads: 2,
      stale_reads: 0,
      lost_data_reads: 1,
    };
    const page = renderHtml(report);
    expect(page).toContain('<section class="panel" id="reads">');
    expect(page).toContain('data-figure="lost_data_reads" data-value="1"');
    expect(page).toContain("Reads of lost data (1)");
    expect(page).toMatch(/<td><code>direct\/r1<\/code><\/td><td>n1<\/td><td>0\.700<\/td><td>2 /);
  });
});

describe("what clients read on a path none of whose reads was answered", () => {
  it("shows dashes for what that path's reads would have judged, not zeros", () => {
    const report = fixtureReport();
    const writes = [acked("direct/w1", 1, 0, 0.1)];
    const reads = [
      readOp("direct/r1", "primary", 0.5, 0.6, { "direct/w1": 1 }),
      readOp("direct/replica/r1", "replica", 0.5, 0.6, {}, { outcome: "fail" }),
    ];
    report.verification.reads = checkReads(writes, reads, [1]);
    report.verification.figures = { ...report.verification.figures, reads: 1, stale_reads: 0 };
    const row = renderHtml(report).match(/<tr data-path="direct\/replica">[\s\S]*?<\/tr>/)?.[0];
    expect(row).toBe(
      `<tr data-path="direct/replica"><td><code>direct/replica</code></td><td class="num">0</td><td class="num">—</td><td class="num">—</td><td class="num">—</td><td class="num">—</td><td class="num">—</td></tr>`,
    );
  });
});

describe("a run that lost acknowledged writes and ended split", () => {
  const report = splitFixtureReport();
  const html = renderHtml(report);
  const section = (id: string): string =>
    html.match(new RegExp(`<section [^>]*id="${id}"[\\s\\S]*?</section>`))?.[0] ?? "";

  it("says why in one line at the top, above the expectations and figures", () => {
    const why = section("why");
    expect(why).toContain(`class="panel headline bad"`);
    expect(why).toContain(
      `<p class="why"><b>Why:</b> ${escapeHtml(report.verification.explanation?.text ?? "")}</p>`,
    );
    expect(html.indexOf(`id="why"`)).toBeGreaterThan(html.indexOf(`<header class="banner`));
    expect(html.indexOf(`id="why"`)).toBeLessThan(html.indexOf(`id="expectations"`));
    expect(html.indexOf(`id="why"`)).toBeLessThan(html.indexOf(`id="figures"`));
    expect(html).toContain(`<a href="#why">Why</a>`);
    expect(renderHtml(fixtureReport())).not.toContain(`id="why"`);
  });

  it("lists the evidence with its times, each linking to its row of the events table", () => {
    const evidence = report.verification.explanation?.evidence ?? [];
    expect(evidence.length).toBeGreaterThan(0);
    const links = [
      ...section("why").matchAll(/<a href="#(ev-\d+)">([\d.]+) s<\/a><\/span><span>([^<]*)<\/span>/g),
    ];
    expect(links.map((m) => [m[2], m[3]])).toEqual(
      evidence.map((e) => [(e.at_ns / 1e9).toFixed(3), escapeHtml(e.text)]),
    );
    for (const [, id] of links) {
      // Exactly one row carries each id, and it is the event recorded at that instant.
      expect(count(html, `id="${id}"`)).toBe(1);
      expect(html).toMatch(
        new RegExp(
          `<tr class="[a-z]+" id="${id}"><td class="num">${((Number(id?.slice(3)) || 0) / 1e9).toFixed(3)}</td>`,
        ),
      );
    }
  });

  it("gives each instant of the events table one id, however many events share it", () => {
    const plain = renderHtml(fixtureReport());
    // Three role samples at 0.2 s: one anchor.
    expect(count(plain, `id="ev-200000000"`)).toBe(1);
  });

  it("has a Diverged panel with one row per side: HA primary or not, timeline, LSN and what it lacks", () => {
    const panel = section("divergence");
    expect(panel).toContain("<h2>Diverged: n2, n1</h2>");
    const rows = [...panel.matchAll(/<tr data-member="([^"]+)">([\s\S]*?)<\/tr>/g)];
    expect(rows.map((m) => m[1])).toEqual(["n2", "n1"]);
    const [n2, n1] = rows.map((m) => m[2] ?? "");
    expect(n2).toContain(`<span class="badge fail">HA primary</span>`);
    expect(n2).toContain(
      `<td class="num">2</td><td class="mono">0/6A00148</td><td class="num bad">2</td><td><code>direct</code> 2</td><td><p class="ids">24, 25</p></td>`,
    );
    expect(n1).toContain("not the HA manager's primary");
    const lacking = report.verification.divergence?.sides[1]?.missing_ids ?? [];
    expect(lacking.length).toBeGreaterThan(ID_LIST_LIMIT);
    expect(n1).toContain(
      `<td class="num">1</td><td class="mono">0/5030578</td><td class="num bad">${lacking.length}</td><td><code>direct</code> ${lacking.length}</td>`,
    );
    expect(n1).toContain(
      `${lacking[ID_LIST_LIMIT - 1]} <span class="more">… and ${lacking.length - ID_LIST_LIMIT} more</span>`,
    );
    expect(n1).not.toContain(`, ${lacking[ID_LIST_LIMIT]},`);
    expect(html.indexOf(`id="divergence"`)).toBeLessThan(html.indexOf(`id="figures"`));
    expect(renderHtml(fixtureReport())).not.toContain(`id="divergence"`);
  });

  it("puts the divergence among the moments and the diverged figure among the cards", () => {
    const last = keyMoments(report).at(-1);
    expect(last?.html).toContain(
      `<a href="#divergence"><b>diverged</b></a>: n2 and n1 still writable at the end`,
    );
    expect(html).toMatch(
      /<div class="card bad" data-figure="diverged" data-value="true"[^>]*><div class="label">Diverged<\/div><div class="value">yes<\/div><div class="sub">n2, n1 writable at the end<\/div>/,
    );
    expect(renderHtml(fixtureReport())).toMatch(
      /<div class="card" data-figure="diverged" data-value="false"[^>]*><div class="label">Diverged<\/div><div class="value">no<\/div>/,
    );
  });

  it("shows an unmeasured WAL loss as a dash with its reason, on the card and per promotion, never as 0", () => {
    expect(html).toMatch(
      /<div class="card warn" data-figure="wal_loss_bytes" data-value="null"[^>]*><div class="label">WAL loss<\/div><div class="value absent">—<\/div><div class="sub">unknown: the promotion of n2 to timeline 2 has no fork LSN<\/div>/,
    );
    expect(html).toMatch(
      /<tr data-member="n2" data-timeline="2" data-kind="past-fork"><td><code>n2<\/code> → timeline 2<\/td><td>timeline 1 past the fork<\/td><td class="mono">—<\/td><td class="mono">0\/5030578<\/td><td class="num warn"[^>]*>— <span class="muted">unknown: the promotion of n2 to timeline 2 has no fork LSN<\/span><\/td>/,
    );
    expect(html).not.toMatch(/>0 B</);
  });

  it("labels a promotion only the samples saw, with why the HA manager's record lacks it", () => {
    expect(html).toContain(
      `n2 promoted at 8.250 s <span class="warn">seen only by role samples — repmgr recorded no promotion in this run</span>`,
    );
    expect(html).toContain(
      "neither PostgreSQL&#39;s timeline history nor the HA manager recorded the fork point",
    );
    expect(keyMoments(report).find((m) => m.at_ns === 8.25e9)?.html).toContain("(seen only by role samples)");
  });

  it("shows each path's RTO beside its own bound, never the HA bound beside the dns path", () => {
    expect(html).toContain(`<div class="sub">direct 5.50 s (bound 40 s) · dns 45.95 s (bound 65 s)</div>`);
    expect(html).toContain("Bound the settings imply for the direct paths: <b>40 s</b>");
    expect(html).toContain(
      `<tr data-path="dns"><td><code>dns</code></td><td class="num">45.95 s</td><td class="num">65 s <span class="muted">(failover 40 s + poll interval and TTL 25 s)</span></td></tr>`,
    );
    expect(html).not.toMatch(/dns[^<]*45\.95 s \(bound 40 s\)/);
    // One path: the bound note alone, as before.
    expect(renderHtml(fixtureReport())).not.toContain(`class="paths-table"`);
  });
});

describe("the promotions list", () => {
  it("names the parent timeline from verify, where the fork point came from, and an HA manager that disagrees", () => {
    const report = fixtureReport();
    const [p] = report.verification.promotions;
    if (!p) throw new Error("fixture has a promotion");
    Object.assign(p, { timeline: 5, parent: 3, ha_fork_lsn: "0/5030F00" });
    const html = renderHtml(report);
    expect(html).toContain(
      `timeline 5 forked from timeline 3 at <code>0/5030E50</code> <span class="muted">(fork point from PostgreSQL&#39;s timeline history)</span> <span class="warn">patroni /history says <code>0/5030F00</code></span>: n2 promoted at 8.200 s <span class="muted">(patroni /history)</span>`,
    );
    Object.assign(p, { fork_source: "ha manager", ha_fork_lsn: "0/5030E50" });
    expect(renderHtml(report)).toContain(
      `<code>0/5030E50</code> <span class="muted">(fork point from patroni /history only)</span>: n2`,
    );
  });

  it("itemises a measured WAL loss per promotion", () => {
    const html = renderHtml(fixtureReport());
    expect(html).toContain(`<div class="sub">n2 → tl 2: tl 1 past the fork, 368 B</div>`);
    expect(html).toMatch(
      /<tr data-member="n2" data-timeline="2" data-kind="past-fork">[\s\S]*?<td class="mono">0\/5030E50<\/td><td class="mono">0\/5030FC0<\/td><td class="num bad">368 B<\/td><\/tr>/,
    );
  });
});
