/**
 * The HTML reports in a real browser: every recorded result under fixtures/results and the
 * newest real runs this machine has (pgchaos CLI output in reports/, integration-test output in
 * /tmp) are rendered, opened in headless Chromium and checked: no console error, no request, the
 * swimlanes and charts drawn, and the numbers on the page equal to those in result.json.
 * Screenshots are kept in reports/screenshots/.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatCount, formatSeconds } from "../../harness/report/format.ts";
import { ID_LIST_LIMIT } from "../../harness/report/html.ts";
import { writeReports } from "../../harness/report/index.ts";
import type { ResultJson } from "../../harness/report/json.ts";
import { loadRunReport } from "../../harness/report/load.ts";
import type { RunReport } from "../../harness/report/reporter.ts";
import { type InvocationRun, writeInvocationReports } from "../../harness/report/suite.ts";
import { splitFixtureReport } from "../../harness/report/test-fixture.ts";
import { findAll, parseXml } from "../../harness/report/test-xml.ts";
import { loadScenario } from "../../harness/scenario/scenario.ts";
import { formatFigure } from "../../harness/verify/catalogue.ts";
import { ROOT } from "../helpers.ts";
import { type WatchedPage, launch, openFile, screenshot } from "./browser.ts";

interface Source {
  name: string;
  dir: string;
  origin: "fixture" | "real run";
}

/** A real run directory is used only when complete and no longer being written. */
function completeRun(dir: string): boolean {
  const result = join(dir, "result.json");
  const history = join(dir, "history.json");
  if (!existsSync(result) || !existsSync(history)) return false;
  if (Date.now() - statSync(history).mtimeMs < 10_000) return false;
  try {
    JSON.parse(readFileSync(result, "utf8"));
    JSON.parse(readFileSync(history, "utf8"));
    return true;
  } catch {
    return false;
  }
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir)
      .map((name) => join(dir, name))
      .filter((path) => statSync(path).isDirectory());
  } catch {
    return [];
  }
}

const FIXTURES: Source[] = subdirs(join(ROOT, "fixtures", "results")).map((dir) => ({
  name: basename(dir),
  dir,
  origin: "fixture",
}));

/** The newest few runs of the CLI (reports/) and of the integration tests (/tmp/pgchaos-test-out-*). */
const REAL_RUNS: Source[] = [
  ...subdirs(join(ROOT, "reports")),
  ...readdirSync(tmpdir())
    .filter((name) => name.startsWith("pgchaos-test-out-"))
    .flatMap((name) => subdirs(join(tmpdir(), name))),
]
  .filter(completeRun)
  .sort((a, b) => statSync(join(b, "result.json")).mtimeMs - statSync(join(a, "result.json")).mtimeMs)
  .slice(0, 4)
  .map((dir) => ({ name: basename(dir), dir, origin: "real run" }));

const OUT = mkdtempSync(join(tmpdir(), "pgchaos-report-test-"));

interface Rendered {
  source: Source;
  result: ResultJson;
  report: RunReport;
  dir: string;
  html: string;
}

/**
 * Copies a run into OUT and renders it as the CLI does, with its scenario's source. Recorded logs
 * are stored as *.log.txt (the repository ignores *.log) and get their real name back here.
 */
async function render(source: Source, index: number): Promise<Rendered> {
  const dir = join(OUT, `${source.name}-${index}`);
  mkdirSync(join(dir, "logs"), { recursive: true });
  for (const file of ["result.json", "history.json"]) copyFileSync(join(source.dir, file), join(dir, file));
  const logsDir = join(source.dir, "logs");
  const logs = existsSync(logsDir) ? readdirSync(logsDir, { withFileTypes: true }) : [];
  for (const log of logs.filter((e) => e.isFile())) {
    if (log.name.endsWith(".log") || log.name.endsWith(".log.txt")) {
      copyFileSync(join(source.dir, "logs", log.name), join(dir, "logs", log.name.replace(/\.txt$/, "")));
    }
  }
  const result = JSON.parse(readFileSync(join(dir, "result.json"), "utf8")) as ResultJson;
  const report = await loadRunReport(dir);
  const scenarioFile = join(ROOT, "scenarios", `${report.record.scenario}.yaml`);
  if (!report.scenarioSource && existsSync(scenarioFile)) {
    const scenario = loadScenario(scenarioFile);
    report.scenarioSource = scenario.source;
    report.scenarioDescription = scenario.description;
  }
  await writeReports(report, dir);
  return { source, result, report, dir, html: join(dir, "report.html") };
}

let browser: Browser;
const rendered: Rendered[] = [];

beforeAll(async () => {
  browser = await launch();
  const all = [...FIXTURES, ...REAL_RUNS];
  for (const [i, source] of all.entries()) rendered.push(await render(source, i));
  console.log(
    `report tests: ${FIXTURES.length} recorded fixtures, ${REAL_RUNS.length} real runs (${REAL_RUNS.map((r) => r.dir).join(", ") || "none found"})`,
  );
});

afterAll(async () => {
  await browser?.close();
  rmSync(OUT, { recursive: true, force: true });
});

async function texts(page: Page, selector: string): Promise<string[]> {
  return page.$$eval(selector, (els) => els.map((e) => (e.textContent ?? "").trim()));
}

function expectClean(watched: WatchedPage): void {
  expect(watched.errors, "console errors").toEqual([]);
  expect(watched.network, "requests that left the file").toEqual([]);
}

const SOURCES = [...FIXTURES, ...REAL_RUNS];

describe.each(SOURCES.map((s, i) => [`${s.origin} ${s.name}`, i] as const))(
  "report.html of %s",
  (_label, i) => {
    let r: Rendered;
    let watched: WatchedPage;

    beforeAll(async () => {
      const found = rendered[i];
      if (!found) throw new Error(`source ${i} was not rendered`);
      r = found;
      watched = await openFile(browser, r.html);
    });

    afterAll(async () => {
      await watched?.page.context().close();
    });

    it("loads without console errors or any network request, and fits 1280 px", async () => {
      expectClean(watched);
      const width = await watched.page.evaluate(() => document.documentElement.scrollWidth);
      expect(width).toBeLessThanOrEqual(1280);
      const path = await screenshot(watched.page, `report-${r.source.name}`);
      console.log(`screenshot: ${path}`);
    });

    it("shows the verdict and each expectation as result.json has them", async () => {
      const { page } = watched;
      expect(await page.textContent(".banner .verdict")).toBe(r.result.verdict.toUpperCase());
      const rows = await page.$$eval("table.expectations tbody tr", (trs) =>
        trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => (td.textContent ?? "").trim())),
      );
      expect(rows).toEqual(
        r.result.expectations.map((e) => [e.key, e.expected, e.actual, e.pass ? "PASS" : "FAIL"]),
      );
    });

    it("shows every key figure equal to result.json", async () => {
      const f = r.result.figures;
      const cards = await watched.page.$$eval(".card[data-figure]", (els) =>
        Object.fromEntries(
          els.map((e) => [
            e.getAttribute("data-figure"),
            {
              raw: e.getAttribute("data-value"),
              text: (e.querySelector(".value")?.textContent ?? "").trim(),
            },
          ]),
        ),
      );
      const expected: Record<string, { raw: string; text: string }> = {
        rto_s: { raw: String(f.rto_s), text: formatSeconds(f.rto_s) },
        max_write_gap_s: { raw: String(f.max_write_gap_s), text: formatSeconds(f.max_write_gap_s) },
        acknowledged_writes: { raw: String(f.acknowledged_writes), text: formatCount(f.acknowledged_writes) },
        lost_writes: { raw: String(f.lost_writes), text: formatFigure("lost_writes", f) },
        unknown_writes: { raw: String(f.unknown_writes), text: formatCount(f.unknown_writes) },
        wal_loss_bytes: { raw: String(f.wal_loss_bytes), text: formatFigure("wal_loss_bytes", f) },
        promotions: { raw: String(f.promotions), text: formatCount(f.promotions) },
        split_brain_window_s: {
          raw: String(f.split_brain_window_s),
          text: f.split_brain ? formatSeconds(f.split_brain_window_s) : "none",
        },
        // Recorded before divergence was judged: one node was read, so none is shown.
        diverged: {
          raw: String(f.diverged ?? false),
          text: formatFigure("diverged", { diverged: f.diverged ?? false }),
        },
      };
      for (const [figure, want] of Object.entries(expected)) expect(cards[figure], figure).toEqual(want);
      const measured = f as typeof f & {
        write_blocked_s?: number | null;
        old_primary_rejoin_s?: number | null;
      };
      for (const figure of ["write_blocked_s", "old_primary_rejoin_s"] as const) {
        const value = measured[figure];
        // Results recorded before these figures existed show a dash.
        expect(cards[figure]?.text, figure).toBe(
          value === undefined || value === null ? "—" : formatSeconds(value),
        );
      }
    });

    it("lists the lost and unknown writes and each node's LSN as result.json has them", async () => {
      const { page } = watched;
      expect(await texts(page, "#writes .cols h3")).toEqual([
        `Lost (${formatCount(r.result.lost_write_ids.length)})`,
        `Unknown outcome (${formatCount(r.result.unknown_write_ids.length)})`,
      ]);
      const ids = await page.$$eval("table.writes-table tbody tr", (trs) =>
        trs.map((tr) => Number(tr.getAttribute("data-id"))),
      );
      // Each list shows its first ID_LIST_LIMIT ids, then "… and N more".
      expect(ids).toEqual([
        ...r.result.lost_write_ids.slice(0, ID_LIST_LIMIT),
        ...r.result.unknown_write_ids.slice(0, ID_LIST_LIMIT),
      ]);
      const nodes = await page.$$eval("table.lsn-table tbody tr", (trs) =>
        trs.map((tr) => {
          const td = [...tr.querySelectorAll("td")].map((c) => (c.textContent ?? "").trim());
          return [tr.getAttribute("data-member"), td[1], td[2], td[3]];
        }),
      );
      expect(nodes).toEqual(
        r.result.final.nodes.map((n) => [
          n.member,
          n.role,
          n.timeline === null ? "—" : String(n.timeline),
          n.lsn ?? "—",
        ]),
      );
    });

    it("says why writes were lost, shows the divergence and the WAL loss per promotion as result.json has them", async () => {
      await expectFindings(watched.page, r.result);
    });

    it("draws a swimlane per member, the fault bands and the promotion markers", async () => {
      const { page } = watched;
      const lanes = await page.$$eval("svg.timeline g.lane[data-member]", (gs) =>
        gs.map((g) => ({
          member: g.getAttribute("data-member"),
          width: g.getBoundingClientRect().width,
          segments: [...g.querySelectorAll("rect.seg")].filter((s) => s.getBoundingClientRect().width > 0)
            .length,
        })),
      );
      expect(lanes.map((l) => l.member)).toEqual(r.result.members.map((m) => m.name));
      for (const lane of lanes) expect(lane.width, `lane ${lane.member}`).toBeGreaterThan(1000);
      for (const m of r.result.members.filter((m) => m.kind === "postgres")) {
        expect(lanes.find((l) => l.member === m.name)?.segments, `segments of ${m.name}`).toBeGreaterThan(0);
      }
      const injects = r.result.timeline.filter((e) => e.kind === "fault" && e.phase === "inject").length;
      expect(await page.locator("svg.timeline g.fault-band").count()).toBe(injects);
      expect(await page.locator("svg.timeline g.promotion-marker").count()).toBe(r.result.promotions.length);
    });

    it("draws the workload chart: writes/s, latency, failures and unknowns, the RTO", async () => {
      const { page } = watched;
      const f = r.result.figures;
      const area = await page.locator("svg.workload-chart path.rate-area").boundingBox();
      expect(area?.height ?? 0).toBeGreaterThan(f.acknowledged_writes > 0 ? 20 : -1);
      expect(await page.locator("svg.workload-chart path.lat-p50").count()).toBe(
        f.acknowledged_writes > 0 ? 1 : 0,
      );
      expect(await page.locator("svg.workload-chart path.lat-p99").count()).toBe(
        f.acknowledged_writes > 0 ? 1 : 0,
      );
      expect((await page.locator("svg.workload-chart rect.tick-fail").count()) > 0).toBe(f.failed_writes > 0);
      expect((await page.locator("svg.workload-chart rect.tick-unknown").count()) > 0).toBe(
        f.unknown_writes > 0,
      );
      // One bracket per fault and entry point whose writes came back (a run through two paths has two).
      const measured = r.report.verification.outages.filter((o) => o.end_ns !== null).length;
      expect(await page.locator("svg.workload-chart g.rto-bracket").count()).toBe(measured);
    });

    it("shows a tooltip at once on hover, and filters the events table", async () => {
      const { page } = watched;
      const band = page.locator("svg.timeline g.fault-band rect.band").first();
      if ((await band.count()) > 0) {
        await band.scrollIntoViewIfNeeded();
        const box = await band.boundingBox();
        if (!box) throw new Error("fault band not laid out");
        await page.mouse.move(box.x + Math.min(6, box.width / 2), box.y + box.height - 3);
        await expect.poll(() => page.locator(".tip").isVisible()).toBe(true);
        // A split-brain outline drawn over the band answers the same hover with its own tooltip.
        expect(await page.textContent(".tip")).toMatch(/^(fault [a-z-]+ on |split-brain: |dual primary: )/);
      }
      const rows = await page.locator("#events-table tbody tr").count();
      expect(rows).toBe(r.result.timeline.length);
      const roles = r.result.timeline.filter((e) => e.kind === "role").length;
      await page.locator('input[data-kind="role"]').uncheck();
      expect(await page.locator("#events-table tbody tr:visible").count()).toBe(rows - roles);
      expectClean(watched);
    });

    it("masks every password-like value and keeps the node logs collapsible", async () => {
      const { page } = watched;
      const text = await page.evaluate(() => {
        for (const d of document.querySelectorAll("details")) d.open = true;
        return document.body.innerText;
      });
      for (const [, value] of text.matchAll(
        /(?:passw\w*|pwd|secret|token)["']?\s*[:=]\s*["']?([^\s"',;}]+)/gi,
      )) {
        expect(value).toBe("********");
      }
      const logs = readdirSync(join(r.dir, "logs")).filter((n) => n.endsWith(".log"));
      expect(await page.locator("details.node-log").count()).toBe(logs.length);
      if (r.result.timeline.some((e) => e.kind === "fault") && logs.length > 0) {
        expect(await page.locator(".ll.mark").count()).toBeGreaterThan(0);
      }
    });
  },
);

/**
 * The explanation, the Diverged panel and the WAL-loss table against result.json; each absent
 * when the result has none. Results recorded before these existed have none of them.
 */
async function expectFindings(page: Page, result: ResultJson): Promise<void> {
  const explanation = result.explanation ?? null;
  const why = page.locator("section#why");
  if (explanation === null) {
    expect(await why.count()).toBe(0);
  } else {
    expect((await why.locator("p.why").textContent())?.trim()).toBe(`Why: ${explanation.text}`);
    // Visible without scrolling: the page opens on it.
    const box = await why.boundingBox();
    const height = page.viewportSize()?.height ?? 0;
    expect(box && box.y + Math.min(box.height, 80) <= height, "the explanation is in the first screen").toBe(
      true,
    );
    const evidence = await why.locator("ol.evidence li").evaluateAll((lis) =>
      lis.map((li) => ({
        href: li.querySelector("a")?.getAttribute("href") ?? null,
        text: (li.querySelector("span:last-child")?.textContent ?? "").trim(),
      })),
    );
    expect(evidence.map((e) => e.text)).toEqual(explanation.evidence.map((e) => e.text));
    for (const [i, e] of evidence.entries()) {
      const at = explanation.evidence[i]?.at_ns;
      if (!result.timeline.some((t) => t.at_ns === at)) continue;
      expect(e.href).toBe(`#ev-${at}`);
      // The link lands on that instant's row of the events table.
      const row = page.locator(`#events-table tbody tr[id="ev-${at}"]`);
      expect(await row.count()).toBe(1);
      expect((await row.locator("td").first().textContent())?.trim()).toBe(((at ?? 0) / 1e9).toFixed(3));
    }
  }
  const divergence = result.divergence ?? null;
  const panel = page.locator("section#divergence");
  if (divergence === null) {
    expect(await panel.count()).toBe(0);
  } else {
    const rows = await panel.locator("tbody tr").evaluateAll((trs) =>
      trs.map((tr) => {
        const td = [...tr.querySelectorAll("td")].map((c) => (c.textContent ?? "").trim());
        return [tr.getAttribute("data-member"), td[1], td[2], td[3], td[4]];
      }),
    );
    expect(rows).toEqual(
      divergence.sides.map((side) => [
        side.member,
        side.ha_primary ? "HA primary" : "not the HA manager's primary",
        side.timeline === null ? "—" : String(side.timeline),
        side.lsn ?? "—",
        side.missing_ids === null ? "—" : formatCount(side.missing_ids.length),
      ]),
    );
  }
  const walLoss = await page
    .locator("table.wal-loss-table tbody tr")
    .evaluateAll((trs) =>
      trs.map((tr) => [
        tr.getAttribute("data-member"),
        tr.getAttribute("data-timeline"),
        (tr.querySelector("td:last-child")?.textContent ?? "").trim(),
      ]),
    );
  expect(walLoss).toEqual(
    (result.wal_loss ?? []).map((d) => [
      d.member,
      String(d.timeline),
      d.loss_bytes === null
        ? `— unknown: ${d.unknown ?? "not measured"}`
        : formatFigure("wal_loss_bytes", { wal_loss_bytes: d.loss_bytes }),
    ]),
  );
}

describe("the report of a run that lost acknowledged writes and ended split", () => {
  let watched: WatchedPage;
  let result: ResultJson;

  beforeAll(async () => {
    const dir = join(OUT, "split-fixture");
    await writeReports(splitFixtureReport(), dir);
    result = JSON.parse(readFileSync(join(dir, "result.json"), "utf8")) as ResultJson;
    watched = await openFile(browser, join(dir, "report.html"));
  });

  afterAll(async () => {
    await watched?.page.context().close();
  });

  it("opens on why, with the Diverged panel and the WAL loss unknown, and loads clean", async () => {
    expectClean(watched);
    expect(result.explanation).not.toBeNull();
    expect(result.divergence).not.toBeNull();
    await expectFindings(watched.page, result);
    const wal = watched.page.locator('.card[data-figure="wal_loss_bytes"]');
    expect((await wal.locator(".value").textContent())?.trim()).toBe("—");
    expect((await wal.locator(".sub").textContent())?.trim()).toBe(
      "unknown: the promotion of n2 to timeline 2 has no fork LSN",
    );
    const path = await screenshot(watched.page, "report-split-fixture");
    console.log(`screenshot: ${path}`);
  });

  it("follows an evidence link to its event row", async () => {
    const { page } = watched;
    const link = page.locator("section#why ol.evidence a").nth(1);
    const href = await link.getAttribute("href");
    await link.click();
    await page.waitForFunction((hash) => location.hash === hash, href);
    const target = page.locator(`#events-table tr${href}`);
    expect(await target.evaluate((tr) => tr.matches(":target")), "the row is the link's target").toBe(true);
    // The page scrolls smoothly: the row comes into view, below the sticky bar.
    const height = page.viewportSize()?.height ?? 0;
    await expect
      .poll(async () => {
        const box = await target.boundingBox();
        return box !== null && box.y >= 0 && box.y + box.height <= height;
      })
      .toBe(true);
  });
});

describe("the invocation index, junit.xml and summary.json", () => {
  let runs: InvocationRun[];
  let paths: { index: string; junit: string; summary: string };
  let watched: WatchedPage;

  beforeAll(async () => {
    runs = rendered.map((r) => ({ report: r.report, dir: r.dir }));
    paths = await writeInvocationReports(runs, OUT);
    watched = await openFile(browser, paths.index);
  });

  afterAll(async () => {
    await watched?.page.context().close();
  });

  it("loads without console errors or requests, and links every cell to its run's report", async () => {
    expectClean(watched);
    expect(await watched.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280);
    const path = await screenshot(watched.page, "index");
    console.log(`screenshot: ${path}`);
    const cells = await watched.page.$$eval("a.cell", (as) =>
      as.map((a) => ({
        href: a.getAttribute("href") ?? "",
        run: a.getAttribute("data-run"),
        figs: [...a.querySelectorAll(".fig")].map((f) => (f.textContent ?? "").trim()),
        verdict: (a.querySelector(".pill")?.textContent ?? "").trim(),
      })),
    );
    expect(cells).toHaveLength(runs.length);
    for (const r of rendered) {
      const cell = cells.find(
        (c) => c.run === r.result.run_id && c.href === `${basename(r.dir)}/report.html`,
      );
      expect(cell, r.dir).toBeDefined();
      expect(existsSync(join(OUT, cell?.href ?? "missing"))).toBe(true);
      expect(cell?.verdict).toBe(r.result.verdict.toUpperCase());
      expect(cell?.figs).toEqual([
        `RTO ${formatSeconds(r.result.figures.rto_s)}`,
        `lost ${formatFigure("lost_writes", r.result.figures)}`,
        ...(r.result.figures.diverged ? [`diverged ${r.result.divergence?.members.join(", ")}`] : []),
      ]);
    }
  });

  it("compares kill-primary across topologies with timelines on one time axis", async () => {
    const { page } = watched;
    const killRuns = rendered.filter((r) => r.result.scenario === "kill-primary");
    const section = page.locator('section.comparison[data-scenario="kill-primary"]');
    expect(await section.count()).toBe(1);
    expect(await section.locator(".stacked-run").count()).toBe(killRuns.length);
    // Same axis: every stacked timeline puts "0 s" (the fault) at the same x, and is as wide.
    const zeros = await section.locator("svg.timeline").evaluateAll((svgs) =>
      svgs.map((svg) => {
        const zero = [...svg.querySelectorAll("text.tick")].find((t) => t.textContent === "0 s");
        const box = zero?.getBoundingClientRect();
        return { x: box ? box.x + box.width / 2 : Number.NaN, width: svg.getBoundingClientRect().width };
      }),
    );
    for (const z of zeros) {
      expect(z.x).toBeCloseTo(zeros[0]?.x ?? 0, 0);
      expect(z.width).toBeCloseTo(zeros[0]?.width ?? 0, 0);
    }
    const topologies = await section.locator("table.compare thead th a").allTextContents();
    expect(topologies).toEqual(killRuns.map((r) => r.result.topology));
  });

  it("opens a run's report from its cell", async () => {
    const { page } = watched;
    await page.locator("a.cell").first().click();
    await page.waitForURL(/report\.html$/);
    expect(await page.locator("svg.timeline").count()).toBe(1);
    expectClean(watched);
  });

  it("writes a junit.xml that parses, one testcase per run, failures for failed runs", async () => {
    const xml = readFileSync(paths.junit, "utf8");
    // Chromium's own XML parser: a real, conforming one.
    const page = await browser.newPage();
    const parsed = await page.evaluate((text) => {
      const doc = new DOMParser().parseFromString(text, "application/xml");
      return {
        error: doc.getElementsByTagName("parsererror").length,
        cases: [...doc.getElementsByTagName("testcase")].map((c) => [
          c.getAttribute("classname"),
          c.getAttribute("name"),
          c.getElementsByTagName("failure").length,
        ]),
      };
    }, xml);
    await page.close();
    expect(parsed.error).toBe(0);
    const failing = rendered.filter((r) => r.result.verdict === "fail").length;
    expect(parsed.cases.filter((c) => c[2] === 1)).toHaveLength(failing);
    expect(parsed.cases.map((c) => c[0])).toEqual(rendered.map((r) => r.result.scenario));
    const root = parseXml(xml);
    expect(root.attrs.tests).toBe(String(rendered.length));
    expect(root.attrs.failures).toBe(String(failing));
    expect(findAll(root, "testcase")).toHaveLength(rendered.length);
  });

  it("writes summary.json with every run's figures", () => {
    const summary = JSON.parse(readFileSync(paths.summary, "utf8"));
    expect(summary.totals.runs).toBe(rendered.length);
    for (const [i, r] of rendered.entries()) {
      // Recorded results older than per-group figures have none; compare the rest exactly.
      const { groups: _groups, ...figures } = summary.runs[i].figures;
      const { groups: _recorded, ...recorded } = r.result.figures as typeof r.result.figures & {
        groups?: unknown;
      };
      // Figures added since a result was recorded are derived on load; the recorded ones must agree.
      expect(figures).toMatchObject(recorded);
      expect(existsSync(join(OUT, summary.runs[i].report))).toBe(true);
    }
  });
});
