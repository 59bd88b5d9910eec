/**
 * The per-invocation outputs in the --out directory: index.html (scenario × topology matrix and,
 * for a scenario run on several topologies, a side-by-side comparison), junit.xml and summary.json.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ExpectationResult, Figures } from "../model/figures.ts";
import type { GroupStatistics } from "../verify/aggregate.ts";
import { FIGURES, type ScalarFigure, formatFigure } from "../verify/catalogue.ts";
import { notZero } from "./cards.ts";
import { escapeHtml as esc } from "./escape.ts";
import { formatSeconds, runLabel } from "./format.ts";
import { page } from "./html.ts";
import { allProblems } from "./json.ts";
import { type InvocationRun, relPath, renderJunit } from "./junit.ts";
import { alignedWindows, faultBands, runEndNs } from "./model.ts";
import { faultColor } from "./palette.ts";
import type { PlanSummary } from "./reporter.ts";
import type { RunReport } from "./reporter.ts";
import { groupsHtml } from "./statistics.ts";
import { renderTimelineSvg } from "./svg.ts";
import { sweepHtml } from "./sweep.ts";

export type { InvocationRun } from "./junit.ts";

/** summary.json's view of the plan: what was planned, what ran, and each group over its repeats. */
export interface PlanJson {
  id: string;
  seed: number;
  repeat: number;
  shard: PlanSummary["plan"]["shard"];
  verdict: "pass" | "fail";
  interrupted: boolean;
  /** Every planned run's key, in plan order: shards of one plan list the same keys. */
  runs: string[];
  missing: string[];
  groups: {
    group: string;
    scenario: string;
    topology: string;
    point: Record<string, string | number | boolean>;
    verdict: "pass" | "fail";
    statistics: GroupStatistics;
    expectations: ExpectationResult[];
    runs: { key: string; seed: number; verdict: "pass" | "fail"; result: string }[];
  }[];
}

function planJson(summary: PlanSummary, outDir: string): PlanJson {
  return {
    id: summary.plan.plan_id,
    seed: summary.plan.seed,
    repeat: summary.plan.repeat,
    shard: summary.plan.shard,
    verdict: summary.verdict,
    interrupted: summary.interrupted,
    runs: summary.plan.runs.map((run) => run.key),
    missing: summary.missing.map((run) => run.key),
    groups: summary.groups.map((g) => ({
      group: g.group,
      scenario: g.scenario,
      topology: g.topology,
      point: g.point,
      verdict: g.verdict,
      statistics: g.statistics,
      expectations: g.expectations,
      runs: g.results.map((r) => ({
        key: r.run.key,
        seed: r.run.seed,
        verdict: r.report.verification.verdict,
        result: `${relPath(outDir, r.dir)}/result.json`,
      })),
    })),
  };
}

/** The plan's groups over their repeats (and, for a sweep, RTO against the setting). */
function planSections(summary: PlanSummary, outDir: string): string {
  const grouped = summary.groups.filter(
    (g) => g.results.length + g.missing.length > 1 || g.expectations.length > 0,
  );
  const sweep = sweepHtml(summary.groups);
  const repeats =
    grouped.length === 0
      ? ""
      : `<section class="panel" id="repeats">${groupsHtml(grouped, (dir) => relPath(outDir, dir))}</section>`;
  return `${sweep ? `<section class="panel" id="sweep">${sweep}</section>` : ""}${repeats}`;
}

export interface SummaryRun {
  scenario: string;
  topology: string;
  run_id: string;
  verdict: "pass" | "fail";
  started_at: string;
  duration_s: number;
  figures: Figures;
  failed_expectations: ExpectationResult[];
  problems: string[];
  /** Relative to the directory summary.json is in. */
  dir: string;
  report: string;
  result: string;
}

export interface SummaryJson {
  generated_at: string;
  /** The plan the runs came from, its groups' statistics and verdict; absent while the plan runs. */
  plan?: PlanJson;
  totals: { runs: number; passed: number; failed: number };
  index: string;
  junit: string;
  runs: SummaryRun[];
}

export function toSummaryJson(
  runs: InvocationRun[],
  outDir: string,
  generatedAt: string,
  plan?: PlanSummary,
): SummaryJson {
  const passed = runs.filter((r) => r.report.verification.verdict === "pass").length;
  return {
    generated_at: generatedAt,
    ...(plan ? { plan: planJson(plan, outDir) } : {}),
    totals: { runs: runs.length, passed, failed: runs.length - passed },
    index: "index.html",
    junit: "junit.xml",
    runs: runs.map(({ report, dir }) => {
      const { record: r, verification: v } = report;
      const rel = relPath(outDir, dir);
      return {
        scenario: r.scenario,
        topology: r.topology,
        run_id: r.run_id,
        verdict: v.verdict,
        started_at: r.started_at,
        duration_s: r.duration_s,
        figures: { ...v.figures },
        failed_expectations: v.expectations.filter((e) => !e.pass).map((e) => ({ ...e })),
        problems: allProblems(report),
        dir: rel,
        report: `${rel}/report.html`,
        result: `${rel}/result.json`,
      };
    }),
  };
}

/** First-seen order, so the matrix reads in the order the user listed scenarios and topologies. */
function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function cellFigures(report: RunReport): string {
  const { figures: f, unknown } = report.verification;
  // An unknown lost-writes count is a dash; why is on hover.
  const why = f.lost_writes === null ? unknown.lost_writes : undefined;
  const title = why ? ` title="unknown: ${esc(why)}"` : "";
  const diverged = f.diverged
    ? `<span class="fig bad" data-figure="diverged">${esc(`${FIGURES.diverged.short} ${report.verification.divergence?.members.join(", ") ?? FIGURES.diverged.format(true)}`)}</span>`
    : "";
  return `<span class="fig" data-figure="rto_s">${esc(`${FIGURES.rto_s.short} ${formatFigure("rto_s", f)}`)}</span><span class="fig" data-figure="lost_writes"${title}>${esc(`${FIGURES.lost_writes.short} ${formatFigure("lost_writes", f)}`)}</span>${diverged}`;
}

function matrix(runs: InvocationRun[], outDir: string): string {
  const scenarios = unique(runs.map((r) => r.report.record.scenario));
  const topologies = unique(runs.map((r) => r.report.record.topology));
  const head = `<tr><th>scenario</th>${topologies.map((t) => `<th>${esc(t)}</th>`).join("")}</tr>`;
  const rows = scenarios.map((s) => {
    const cells = topologies.map((t) => {
      const here = runs.filter((r) => r.report.record.scenario === s && r.report.record.topology === t);
      if (here.length === 0) return `<td><span class="cell empty">not run</span></td>`;
      const links = here.map(({ report, dir }) => {
        const v = report.verification.verdict;
        return `<a class="cell ${v}" href="${esc(relPath(outDir, `${dir}/report.html`))}" data-scenario="${esc(s)}" data-topology="${esc(t)}" data-run="${esc(report.record.run_id)}"><span class="pill ${v}">${v.toUpperCase()}</span>${here.length > 1 ? `<small class="muted">${esc(runLabel(report.record))}</small>` : ""}${cellFigures(report)}</a>`;
      });
      return `<td>${links.join("")}</td>`;
    });
    return `<tr><td><b>${esc(s)}</b></td>${cells.join("")}</tr>`;
  });
  return `<section class="panel" id="matrix"><h2>Scenario × topology</h2>
<div class="hscroll"><table class="matrix"><thead>${head}</thead><tbody>${rows.join("")}</tbody></table></div></section>`;
}

interface Row {
  label: string;
  /** Numbers are compared (lower is better); null marks a figure that does not exist. */
  value: (r: RunReport) => number | null | undefined;
  text: (r: RunReport) => string;
  bad?: (r: RunReport) => boolean;
  lowerIsBetter?: boolean;
  /** Why a figure shown as a dash was not measured, on hover. */
  why?: (r: RunReport) => string | undefined;
}

/** The figures the comparison sets side by side: numbers, so the best can be marked. */
type ComparedFigure = Exclude<ScalarFigure, "split_brain" | "diverged">;

/** A comparison row for one figure, labelled and formatted as the catalogue says. */
function figureRow<K extends ComparedFigure>(
  key: K,
  options: Partial<Pick<Row, "text" | "bad" | "lowerIsBetter">> = {},
): Row {
  return {
    label: FIGURES[key].label,
    value: (r) => r.verification.figures[key],
    text: (r) => formatFigure(key, r.verification.figures),
    why: (r) => (r.verification.figures[key] === null ? r.verification.unknown[key] : undefined),
    ...options,
  };
}

const ROWS: Row[] = [
  figureRow("rto_s", {
    bad: (r) => r.verification.figures.rto_s === null && r.verification.rto_per_fault.length > 0,
    lowerIsBetter: true,
  }),
  figureRow("max_write_gap_s", { lowerIsBetter: true }),
  // Absent from result files written before it existed: the catalogue's format shows a dash.
  figureRow("write_blocked_s", { lowerIsBetter: true }),
  figureRow("acknowledged_writes"),
  figureRow("failed_writes"),
  figureRow("lost_writes", { bad: (r) => notZero(r.verification.figures.lost_writes), lowerIsBetter: true }),
  figureRow("unknown_writes", { lowerIsBetter: true }),
  figureRow("wal_loss_bytes", {
    bad: (r) => notZero(r.verification.figures.wal_loss_bytes),
    lowerIsBetter: true,
  }),
  figureRow("promotions"),
  figureRow("split_brain_window_s", {
    text: (r) =>
      r.verification.figures.split_brain
        ? formatFigure("split_brain_window_s", r.verification.figures)
        : "none",
    bad: (r) => r.verification.figures.split_brain,
    lowerIsBetter: true,
  }),
  {
    label: FIGURES.diverged.label,
    value: () => undefined,
    text: (r) =>
      r.verification.divergence
        ? r.verification.divergence.members.join(", ")
        : FIGURES.diverged.format(r.verification.figures.diverged),
    bad: (r) => r.verification.figures.diverged,
  },
  figureRow("old_primary_rejoin_s", { lowerIsBetter: true }),
  {
    label: "Expectations met",
    value: () => undefined,
    text: (r) =>
      `${r.verification.expectations.filter((e) => e.pass).length} / ${r.verification.expectations.length}`,
    bad: (r) => r.verification.expectations.some((e) => !e.pass),
  },
];

function compareTable(group: InvocationRun[], outDir: string): string {
  const repeated = new Set(
    group.map((g) => g.report.record.topology).filter((t, i, all) => all.indexOf(t) !== i),
  );
  const head = `<tr><th>figure</th>${group
    .map(({ report, dir }) => {
      const t = report.record.topology;
      // The same topology twice (a rerun) is told apart by its run id.
      const run = repeated.has(t) ? ` <span class="muted">${esc(report.record.run_id)}</span>` : "";
      return `<th class="num"><a href="${esc(relPath(outDir, `${dir}/report.html`))}">${esc(t)}</a>${run} <span class="pill ${report.verification.verdict}">${report.verification.verdict.toUpperCase()}</span></th>`;
    })
    .join("")}</tr>`;
  const rows = ROWS.map((row) => {
    const values = group.map((g) => row.value(g.report));
    const numbers = values.filter((v): v is number => typeof v === "number");
    // "Best" only means something when the runs differ.
    const best =
      row.lowerIsBetter && numbers.length > 1 && new Set(numbers).size > 1 ? Math.min(...numbers) : undefined;
    const cells = group.map((g, i) => {
      const cls = row.bad?.(g.report) ? "bad" : best !== undefined && values[i] === best ? "best" : "";
      const why = row.why?.(g.report);
      return `<td class="num${cls ? ` ${cls}` : ""}"${why ? ` title="unknown: ${esc(why)}"` : ""}>${esc(row.text(g.report))}</td>`;
    });
    return `<tr><td>${esc(row.label)}</td>${cells.join("")}</tr>`;
  });
  // Many runs of one scenario make a wide table: it scrolls inside its panel, the page does not.
  return `<div class="hscroll"><table class="compare"><thead>${head}</thead><tbody>${rows.join("")}</tbody></table></div>`;
}

function comparisonLegend(group: InvocationRun[]): string {
  const kinds = unique(
    group.flatMap((g) => faultBands(g.report.record.timeline, runEndNs(g.report.record)).map((b) => b.fault)),
  );
  const faults = kinds.map((k) => {
    const c = faultColor(k);
    return `<span><i class="sw fault" style="background:${c}1f;border-color:${c}"></i>${esc(k)}</span>`;
  });
  return `<div class="legend"><span class="group"><span class="gl">Role</span><span><i class="sw primary"></i>primary</span><span><i class="sw replica"></i>replica</span><span><i class="sw down"></i>down</span><span><i class="sw unreachable"></i>unreachable</span><span><i class="sw frozen"></i>frozen</span></span>${faults.length > 0 ? `<span class="group"><span class="gl">Fault</span>${faults.join("")}</span>` : ""}<span class="group"><span class="gl">Marker</span><span><i class="sw promo"></i>promotion</span><span><i class="sw ok"></i>acknowledged</span><span><i class="sw failop"></i>failed</span><span><i class="sw unknownop"></i>unknown</span></span></div>`;
}

/** "RTO 9.39 s · lost 2 · promotions 1": a run's headline figures above its timeline. */
function headline(f: Figures): string {
  const keys = ["rto_s", "lost_writes", "promotions"] as const;
  const diverged = f.diverged ? ` · ${FIGURES.diverged.short}` : "";
  return `${keys.map((key) => `${FIGURES[key].short} ${formatFigure(key, f)}`).join(" · ")}${diverged}`;
}

function comparison(scenario: string, group: InvocationRun[], outDir: string): string {
  const windows = alignedWindows(group.map((g) => g.report.record));
  const stacked = group.map(({ report, dir }, i) => {
    const { record: r, verification: v } = report;
    const window = windows[i];
    return `<div class="stacked-run" data-topology="${esc(r.topology)}"><div class="run-head"><b>${esc(r.topology)}</b><span class="pill ${v.verdict}">${v.verdict.toUpperCase()}</span><span class="muted">${esc(headline(v.figures))} · run <a href="${esc(relPath(outDir, `${dir}/report.html`))}">${esc(r.run_id)}</a></span></div>${renderTimelineSvg(r, v, window ? { window, writes: true } : { writes: true })}</div>`;
  });
  const topologies = unique(group.map((g) => g.report.record.topology)).length;
  const what =
    topologies === group.length
      ? `${topologies} topologies`
      : `${group.length} runs on ${topologies} topologies`;
  return `<section class="panel comparison" data-scenario="${esc(scenario)}"><h2>${esc(scenario)} · ${what} side by side</h2>
${compareTable(group, outDir)}
<h3 style="margin-top:20px">Timelines, zeroed at each run's first fault</h3>
<p class="hint">The same time axis for every topology: 0 is the moment the fault was injected, so how long each HA manager took to react reads straight down the page.</p>
${comparisonLegend(group)}<div class="stack">${stacked.join("\n")}</div></section>`;
}

function runsTable(runs: InvocationRun[], outDir: string): string {
  const rows = runs.map(({ report, dir }) => {
    const { record: r, verification: v } = report;
    const failed = v.expectations
      .filter((e) => !e.pass)
      .map((e) => `${e.key}: expected ${e.expected}, actual ${e.actual}`);
    const problems = allProblems(report);
    const why = [...failed, ...problems].map((t) => esc(t)).join("<br>");
    return `<tr class="${v.verdict}"><td><span class="badge ${v.verdict}">${v.verdict.toUpperCase()}</span></td><td>${esc(r.scenario)}</td><td>${esc(r.topology)}</td><td><a href="${esc(relPath(outDir, `${dir}/report.html`))}"><code>${esc(r.run_id)}</code></a></td><td class="num">${esc(formatSeconds(r.duration_s, 1))}</td><td>${why || `<span class="muted">—</span>`}</td></tr>`;
  });
  return `<section class="panel" id="runs"><h2>Runs</h2><table><thead><tr><th>result</th><th>scenario</th><th>topology</th><th>run</th><th class="num">duration</th><th>failed expectations and problems</th></tr></thead><tbody>${rows.join("")}</tbody></table></section>`;
}

/** The invocation index; pure: `generatedAt` is passed in. */
export function renderIndex(
  runs: InvocationRun[],
  outDir: string,
  generatedAt: string,
  plan?: PlanSummary,
): string {
  const passed = runs.filter((r) => r.report.verification.verdict === "pass").length;
  const failed = runs.length - passed;
  const verdict = failed === 0 ? "pass" : "fail";
  const groups = unique(runs.map((r) => r.report.record.scenario))
    .map((s) => [s, runs.filter((r) => r.report.record.scenario === s)] as const)
    .filter(([, group]) => unique(group.map((g) => g.report.record.topology)).length >= 2);
  const links: [string, string][] = [["matrix", "Matrix"]];
  if (groups.length > 0) links.push(["compare", "Comparison"]);
  links.push(["runs", "Runs"]);
  const nav = `<nav class="topnav"><div class="in"><span class="brand">pgchaos</span><span class="crumb"><span class="pill ${verdict}">${verdict.toUpperCase()}</span> ${runs.length} run${runs.length === 1 ? "" : "s"} · ${passed} passed, ${failed} failed</span><span class="links">${links.map(([id, t]) => `<a href="#${id}">${t}</a>`).join("")}</span></div></nav>`;
  const scenarios = unique(runs.map((r) => r.report.record.scenario)).length;
  const topologies = unique(runs.map((r) => r.report.record.topology)).length;
  const banner = `<header class="banner ${verdict}"><div class="verdict">${verdict.toUpperCase()}</div><div class="what"><h1>pgchaos run</h1><div class="meta"><span>scenarios <b>${scenarios}</b></span><span>topologies <b>${topologies}</b></span><span>runs <b>${runs.length}</b></span><span>generated <b>${esc(generatedAt)}</b></span></div></div><div class="summary"><b>${passed} / ${runs.length}</b>runs passed</div></header>`;
  const body =
    runs.length === 0
      ? `${banner}<section class="panel"><p class="muted">No run finished in this invocation.</p></section>`
      : `${banner}
${plan ? planSections(plan, outDir) : ""}
${matrix(runs, outDir)}
${groups.length > 0 ? `<div id="compare">${groups.map(([s, group]) => comparison(s, group, outDir)).join("\n")}</div>` : ""}
${runsTable(runs, outDir)}
<footer>pgchaos · index of this invocation · junit.xml and summary.json beside this file</footer>`;
  return page(`pgchaos · ${passed} passed, ${failed} failed`, nav, body);
}

/** Writes index.html, junit.xml and summary.json into outDir, replacing the previous invocation's. */
export async function writeInvocationReports(
  runs: InvocationRun[],
  outDir: string,
  generatedAt = new Date().toISOString(),
  plan?: PlanSummary,
): Promise<{ index: string; junit: string; summary: string }> {
  await mkdir(outDir, { recursive: true });
  const paths = {
    index: join(outDir, "index.html"),
    junit: join(outDir, "junit.xml"),
    summary: join(outDir, "summary.json"),
  };
  await writeFile(paths.index, renderIndex(runs, outDir, generatedAt, plan));
  await writeFile(paths.junit, renderJunit(runs, outDir));
  await writeFile(
    paths.summary,
    `${JSON.stringify(toSummaryJson(runs, outDir, generatedAt, plan), null, 2)}\n`,
  );
  return paths;
}
