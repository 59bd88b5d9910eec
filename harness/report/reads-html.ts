import type { Verification } from "../model/figures.ts";
import type { PathReads } from "../model/figures.ts";
import { FIGURES, formatFigure } from "../verify/catalogue.ts";
import { type Card, card, figureCard, figureCards, notZero } from "./cards.ts";
import { escapeHtml as esc } from "./escape.ts";
import { anomalyCounts, formatCount, nsToS } from "./format.ts";
import { maskText } from "./redact.ts";
import type { RunReport } from "./reporter.ts";

/** Offending operations listed per kind before the rest is counted (result.json has them all). */
export const OFFENDING_LIMIT = 20;

const s3 = (ns: number) => nsToS(ns).toFixed(3);

/** A table of the first offenders, with how many more there are. */
function offenders(title: string, head: string[], rows: string[][]): string {
  if (rows.length === 0) return "";
  const shown = rows
    .slice(0, OFFENDING_LIMIT)
    .map((cells) => `<tr>${cells.map((c) => `<td>${c}</td>`).join("")}</tr>`)
    .join("");
  const rest = rows.length - OFFENDING_LIMIT;
  const more = rest > 0 ? `<p class="muted">… and ${formatCount(rest)} more in result.json</p>` : "";
  return `<h3 style="margin-top:16px">${esc(title)} (${formatCount(rows.length)})</h3><table class="offenders"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${shown}</tbody></table>${more}`;
}

const PATH_COLUMNS = [
  ["reads", "reads"],
  ["stale_reads", "stale"],
  ["max_staleness_s", "max staleness"],
  ["lost_data_reads", "of lost data"],
  ["non_monotonic_reads", "non-monotonic"],
  ["max_lag_bytes", "replica lag"],
] as const;

function pathTable(paths: PathReads[]): string {
  if (paths.length === 0) return "";
  const cell = (p: PathReads, key: (typeof PATH_COLUMNS)[number][0]): string => {
    // A path none of whose reads was answered judged nothing: a dash, not a clean zero.
    if (p.ok_reads === 0 && key !== "reads" && key !== "max_lag_bytes") return "—";
    switch (key) {
      case "reads":
        return formatCount(p.ok_reads);
      case "max_staleness_s":
        return FIGURES.max_staleness_s.format(p.max_staleness_s ?? 0);
      case "max_lag_bytes":
        return FIGURES.replica_lag_bytes.format(p.max_lag_bytes);
      case "stale_reads":
        return formatCount(p.stale_reads);
      case "lost_data_reads":
        return formatCount(p.lost_data_reads);
      case "non_monotonic_reads":
        return formatCount(p.non_monotonic_reads);
    }
  };
  const rows = paths.map(
    (p) =>
      `<tr data-path="${esc(p.path)}"><td><code>${esc(p.path)}</code></td>${PATH_COLUMNS.map(([key]) => `<td class="num">${cell(p, key)}</td>`).join("")}</tr>`,
  );
  return `<h3 style="margin-top:18px">Per read path</h3><table class="group-table"><thead><tr><th>path</th>${PATH_COLUMNS.map(([, h]) => `<th class="num">${h}</th>`).join("")}</tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

function readCards(v: Verification): Card[] {
  const f = v.figures;
  const fc = figureCards(f, v.unknown);
  // Without replica readers there is no replica figure to show.
  const replica: Card[] =
    f.replica_staleness_s === null
      ? []
      : [
          figureCard(
            f,
            "replica_staleness_s",
            f.replica_lag_bytes === null
              ? "read-only path"
              : `WAL ${formatFigure("replica_lag_bytes", f)} behind at worst`,
          ),
        ];
  return [
    figureCard(f, "reads", `${formatCount(v.reads.reads - v.reads.ok_reads)} unanswered`),
    fc(
      "stale_reads",
      f.stale_reads === 0
        ? "none missed an acknowledged write"
        : `worst ${formatFigure("max_staleness_s", f)} behind`,
      notZero(f.stale_reads) ? "warn" : "",
    ),
    fc("lost_data_reads", "saw a write missing at the end", notZero(f.lost_data_reads) ? "bad" : ""),
    fc("non_monotonic_reads", "a reader went back in time", notZero(f.non_monotonic_reads) ? "bad" : ""),
    ...replica,
  ];
}

function transactionCards(v: Verification): Card[] {
  const f = v.figures;
  const txns = v.transactions;
  if (txns === null) return [];
  const kinds = anomalyCounts(txns);
  return [
    figureCard(f, "transactions", `of ${formatCount(txns.transactions)} attempted`),
    figureCard(f, "txn_anomalies", kinds.join(", ") || "no anomaly inferred", kinds.length > 0 ? "bad" : ""),
  ];
}

/**
 * What clients read: the read figures, per path, every kind of offending read, and the
 * list-append anomalies with their cycles. Absent when the run had neither readers nor transactions.
 */
export function readsSection(report: RunReport): string {
  const v = report.verification;
  if (v.reads.reads === 0 && v.transactions === null) return "";
  const cards = [...(v.reads.reads > 0 ? readCards(v) : []), ...transactionCards(v)];
  const node = (name: string | null) => esc(name ?? "—");
  const stale = offenders(
    "Stale reads",
    ["reader", "node", "read at s", "missed write", "acknowledged at s", "behind", "missed"],
    v.reads.stale.map((r) => [
      `<code>${esc(r.reader)}</code>`,
      node(r.node),
      s3(r.invoke_ns),
      `${r.missed_id} <span class="muted">${esc(r.writer)}</span>`,
      s3(r.missed_ack_ns),
      `${r.staleness_s.toFixed(3)} s`,
      formatCount(r.missed),
    ]),
  );
  const lost = offenders(
    "Reads of lost data",
    ["reader", "node", "read at s", "saw write", "its outcome"],
    v.reads.lost_data.map((r) => [
      `<code>${esc(r.reader)}</code>`,
      node(r.node),
      s3(r.invoke_ns),
      `${r.id} <span class="muted">${esc(r.writer)}</span>`,
      esc(r.write_outcome),
    ]),
  );
  const backwards = offenders(
    "Non-monotonic reads",
    ["reader", "saw write", "seen at s (node)", "later read at s (node)", "later saw up to"],
    v.reads.non_monotonic.map((r) => [
      `<code>${esc(r.reader)}</code>`,
      `${r.id} <span class="muted">${esc(r.writer)}</span>`,
      `${s3(r.seen_ns)} (${node(r.node_before)})`,
      `${s3(r.later_invoke_ns)} (${node(r.node_after)})`,
      r.later_head === null ? "none" : String(r.later_head),
    ]),
  );
  const anomalies = offenders(
    "Transaction anomalies",
    ["kind", "transactions", "evidence"],
    (v.transactions?.anomalies ?? []).map((a) => [
      `<b>${esc(a.kind)}</b>`,
      esc(a.txns.join(", ")),
      esc(maskText(a.text)),
    ]),
  );
  return `<section class="panel" id="reads"><h2>What clients read</h2><div class="cards">${cards.map(card).join("\n")}</div>${pathTable(v.reads.paths)}${stale}${lost}${backwards}${anomalies}</section>`;
}
