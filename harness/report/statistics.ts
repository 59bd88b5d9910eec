import type { Spread } from "../verify/aggregate.ts";
import { FIGURES } from "../verify/catalogue.ts";
import { escapeHtml as esc } from "./escape.ts";
/**
 * A plan's groups (scenario × topology × sweep point) over their repeats, as text and as HTML:
 * the spread of each duration, in how many runs writes were lost or the cluster split, and the
 * expectations written over repeats. Renders GroupSummary; computes nothing.
 */
import type { GroupSummary } from "./reporter.ts";

/** The durations worth a row: RTO always, the others when some run measured them. */
const SPREAD_ROWS = [
  ["rto", "rto_s"],
  ["max_write_gap", "max_write_gap_s"],
  ["write_blocked", "write_blocked_s"],
  ["split_brain_window", "split_brain_window_s"],
  ["old_primary_rejoin", "old_primary_rejoin_s"],
] as const;

const TALLY_ROWS = [
  ["lost_writes", "lost_writes"],
  ["unknown_writes", "unknown_writes"],
  ["split_brain", "split_brain"],
  ["diverged", "diverged"],
  ["wal_loss_bytes", "wal_loss_bytes"],
] as const;

/**
 * Runs in which the figure was not measured: the tally cannot count them as hits or as misses, so
 * "WAL loss in 0 of 5 runs" is said with "(unknown in 3)" beside it.
 */
export function unknownIn(group: GroupSummary, figure: (typeof TALLY_ROWS)[number][1]): number {
  return group.results.filter((r) => r.report.verification.figures[figure] === null).length;
}

function spreadRows(group: GroupSummary) {
  const { spreads } = group.statistics;
  // A figure no run measured (or measured as zero everywhere) would only be a row of dashes.
  return SPREAD_ROWS.filter(
    ([key, figure]) => figure === "rto_s" || (spreads[key].max ?? 0) > 0 || spreads[key].none > 0,
  ).map(([key, figure]) => ({ key, figure, spread: spreads[key] }));
}

/** "9.21 s" or "none" where the run at that rank never recovered. */
function at(value: number | null, none: number): string {
  return value === null ? (none > 0 ? "none" : "—") : FIGURES.rto_s.format(value);
}

export function spreadText(spread: Spread): string {
  return `min ${at(spread.min, spread.none)} · p50 ${at(spread.p50, spread.none)} · p95 ${at(spread.p95, spread.none)} · max ${at(spread.max, spread.none)}`;
}

/** "lost writes in 2 of 20 runs", and "(unknown in 3)" when some runs could not measure it. */
export function tallyText(label: string, hit: number, runs: number, unknown = 0): string {
  return `${label} in ${hit} of ${runs} run${runs === 1 ? "" : "s"}${unknown > 0 ? ` (unknown in ${unknown})` : ""}`;
}

/** { "patroni.ttl": 20 } → ["patroni.ttl=20"]. */
export function pointLabels(point: GroupSummary["point"]): string[] {
  return Object.entries(point).map(([k, v]) => `${k}=${v}`);
}

export function groupTitle(group: GroupSummary): string {
  return [group.scenario, group.topology, ...pointLabels(group.point)].join(" · ");
}

/** Plain lines for the terminal; the caller paints. */
export function groupLines(group: GroupSummary): string[] {
  const s = group.statistics;
  const lines = [
    `${group.verdict === "pass" ? "PASS" : "FAIL"}  ${groupTitle(group)}  (${s.runs} run${s.runs === 1 ? "" : "s"}: ${s.passed} passed${s.failed > 0 ? `, ${s.failed} failed` : ""}${group.missing.length > 0 ? `, ${group.missing.length} not run` : ""})`,
  ];
  for (const row of spreadRows(group)) {
    lines.push(`  ${FIGURES[row.figure].label.padEnd(18)} ${spreadText(row.spread)}`);
  }
  lines.push(
    `  ${TALLY_ROWS.map(([key, figure]) => tallyText(FIGURES[figure].label.toLowerCase(), s.tallies[key].hit, s.runs, unknownIn(group, figure))).join(" · ")}`,
  );
  for (const e of group.expectations) {
    lines.push(`  ${e.pass ? "✔" : "✘"} ${e.key}  ${e.expected}  ${e.actual}`);
  }
  return lines;
}

/** "FAIL  freeze-primary · patroni  ✘ failed_runs = 0: 1 of 1 runs (100%)". */
export function brokenLine(group: GroupSummary): string {
  const broken = group.expectations
    .filter((e) => !e.pass)
    .map((e) => `✘ ${e.key} ${e.expected}: ${e.actual}`);
  return `FAIL  ${groupTitle(group)}  ${broken.join(" · ")}`;
}

/** One table per group, each run of it linked. `href(dir)` turns a run's directory into a link. */
export function groupsHtml(groups: GroupSummary[], href: (dir: string) => string): string {
  if (groups.length === 0) return "";
  const sections = groups.map((group) => {
    const s = group.statistics;
    const spreads = spreadRows(group)
      .map(
        (row) =>
          `<tr><th scope="row" title="${esc(FIGURES[row.figure].help)}">${esc(FIGURES[row.figure].label)}</th>${(
            ["min", "p50", "p95", "max"] as const
          )
            .map((k) => `<td data-stat="${k}">${esc(at(row.spread[k], row.spread.none))}</td>`)
            .join("")}</tr>`,
      )
      .join("");
    const tallies = TALLY_ROWS.map(
      ([key, figure]) =>
        `<li title="${esc(FIGURES[figure].help)}">${esc(tallyText(FIGURES[figure].label, s.tallies[key].hit, s.runs, unknownIn(group, figure)))}</li>`,
    ).join("");
    const expectations = group.expectations
      .map(
        (e) =>
          `<li class="${e.pass ? "pass" : "fail"}">${e.pass ? "✔" : "✘"} <code>${esc(e.key)}</code> ${esc(e.expected)} — ${esc(e.actual)}</li>`,
      )
      .join("");
    const runs = group.results
      .map(
        (r) =>
          `<a class="run ${r.report.verification.verdict}" href="${esc(href(r.dir))}/report.html" title="${esc(r.run.key)} · seed ${r.run.seed}">r${r.run.repeat} ${r.report.verification.verdict === "pass" ? "✔" : "✘"}</a>`,
      )
      .join(" ");
    const missing = group.missing
      .map((run) => `<span class="run missing">r${run.repeat} not run</span>`)
      .join(" ");
    return `<section class="group ${group.verdict}" data-group="${esc(group.group)}">
<h3><span class="badge ${group.verdict}">${group.verdict.toUpperCase()}</span> ${esc(groupTitle(group))} <small>${s.passed} of ${s.runs} runs passed</small></h3>
<table class="spread"><thead><tr><th></th><th>min</th><th>p50</th><th>p95</th><th>max</th></tr></thead><tbody>${spreads}</tbody></table>
<ul class="tallies">${tallies}</ul>
${expectations ? `<ul class="aggregate">${expectations}</ul>` : ""}
<p class="runs">${runs} ${missing}</p>
</section>`;
  });
  return `<h2>Over repeats</h2>\n${sections.join("\n")}`;
}
