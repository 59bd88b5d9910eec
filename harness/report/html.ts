import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { TimelineEvent } from "../observe/timeline.ts";
import { escapeHtml as esc } from "./escape.ts";
import { formatBytes, formatCount, formatSeconds, formatValue, nsToS } from "./format.ts";
import { allProblems } from "./json.ts";
import { byTime } from "./model.ts";
import { maskSettings } from "./redact.ts";
import type { Reporter, RunReport } from "./reporter.ts";
import { renderTimelineSvg } from "./svg.ts";

export { escapeHtml } from "./escape.ts";

/** How many lost / unknown ids are listed before the rest is summarised. */
export const ID_LIST_LIMIT = 200;

const CSS = `
:root{--fg:#1d2330;--muted:#667085;--line:#e4e7ec;--bg:#f5f6f8;--card:#fff;
--pass:#1f7a46;--pass-bg:#e9f6ee;--pass-line:#b9e0c7;--fail:#c4291c;--fail-bg:#fdeeec;--fail-line:#f2c4bf;
--warn:#9a5b00;--warn-bg:#fff6e3;--warn-line:#f3d9a4;
--c-primary:#2f5bd3;--c-replica:#a9c0ef;--c-down:#4b5261;--c-unreachable:#e3a52f;--c-none:#eceef2;
--c-fault:#d4380d;--c-promo:#7a3fd4;--c-ok:#5c9a7c;--c-fail:#d92d20;--c-unknown:#f08c00;
--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1240px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px;font-weight:650;word-break:break-word}
h2{font-size:12px;text-transform:uppercase;letter-spacing:.07em;color:var(--muted);margin:0 0 12px;font-weight:650}
h3{font-size:13px;margin:0 0 8px;font-weight:650}
.panel{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:18px 20px;margin:16px 0}
.banner{display:flex;align-items:center;gap:20px;border-radius:12px;padding:18px 22px;border:1px solid}
.banner.pass{background:var(--pass-bg);border-color:var(--pass-line)}
.banner.fail{background:var(--fail-bg);border-color:var(--fail-line)}
.verdict{font-weight:800;font-size:22px;letter-spacing:.1em;color:#fff;padding:10px 18px;border-radius:8px}
.pass .verdict{background:var(--pass)}.fail .verdict{background:var(--fail)}
.banner .what{flex:1;min-width:0}
.meta{display:flex;flex-wrap:wrap;gap:4px 18px;color:var(--muted);font-size:13px}
.meta b{color:var(--fg);font-weight:600}
.summary{text-align:right;font-size:13px;color:var(--muted);white-space:nowrap}
.summary b{display:block;font-size:20px;color:var(--fg)}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:11px;color:var(--muted);font-weight:650;text-transform:uppercase;letter-spacing:.05em;background:var(--card)}
tr:last-child td{border-bottom:0}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
code,.mono{font-family:var(--mono);font-size:12.5px}
tr.fail td{background:#fff8f7}
.badge{display:inline-block;font-size:11px;font-weight:700;letter-spacing:.05em;padding:2px 9px;border-radius:999px}
.badge.pass{background:var(--pass-bg);color:var(--pass)}.badge.fail{background:var(--fail-bg);color:var(--fail)}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(168px,1fr));gap:12px}
.card{border:1px solid var(--line);border-radius:10px;padding:12px 14px}
.card .label{font-size:12px;color:var(--muted)}
.card .value{font-size:24px;font-weight:650;font-variant-numeric:tabular-nums;margin-top:2px}
.card .sub{font-size:12px;color:var(--muted);margin-top:2px}
.card.bad{border-color:var(--fail-line);background:var(--fail-bg)}.card.bad .value{color:var(--fail)}
.card.warn{border-color:var(--warn-line);background:var(--warn-bg)}.card.warn .value{color:var(--warn)}
.panel.problems{border-color:var(--warn-line);background:var(--warn-bg)}
.panel.problems h2{color:var(--warn)}
ul.plain{margin:0;padding-left:18px}ul.plain li{margin:2px 0}
.legend{display:flex;flex-wrap:wrap;gap:6px 18px;font-size:12px;color:var(--muted);margin:0 0 10px}
.sw{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:-2px;margin-right:6px}
.sw.primary{background:var(--c-primary)}.sw.replica{background:var(--c-replica)}
.sw.down{background:var(--c-down)}.sw.unreachable{background:var(--c-unreachable)}
.sw.none{background:var(--c-none);border:1px solid #d8dce3}
.sw.fault{background:rgba(212,56,13,.12);border:1px solid var(--c-fault)}
.sw.promo{background:var(--c-promo);transform:rotate(45deg) scale(.8)}
.sw.ok{background:var(--c-ok)}.sw.failop{background:var(--c-fail)}.sw.unknownop{background:var(--c-unknown)}
svg.timeline{width:100%;height:auto;display:block}
svg text{font:11px system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;fill:var(--muted)}
svg .lane-name{font-weight:650;font-size:12px;fill:var(--fg)}
svg .r-primary{fill:var(--c-primary)}svg .r-replica{fill:var(--c-replica)}
svg .r-down{fill:var(--c-down)}svg .r-unreachable{fill:var(--c-unreachable)}svg .r-none{fill:var(--c-none)}
svg .band{fill:var(--c-fault);fill-opacity:.1}
svg .band-edge{stroke:var(--c-fault);stroke-width:1.2}
svg .band-edge.heal{stroke-dasharray:3 3}
svg .band-target{fill:none;stroke:var(--c-fault);stroke-width:1.5}
svg .band-label{fill:var(--c-fault);font-weight:650}
svg .promo-line{stroke:var(--c-promo);stroke-width:1.2;stroke-dasharray:4 3}
svg .promo-diamond{fill:var(--c-promo);stroke:#fff;stroke-width:1.5}
svg .promo-label{fill:var(--c-promo);font-weight:650}
svg .grid{stroke:#eef0f3}svg .axis{stroke:#c5cad3}
svg .bar-ok{fill:var(--c-ok)}svg .tick-fail{fill:var(--c-fail)}svg .tick-unknown{fill:var(--c-unknown)}
svg .seg:hover,svg .bar-ok:hover,svg .tick-fail:hover,svg .tick-unknown:hover{opacity:.75}
.ids{font-family:var(--mono);font-size:12px;line-height:1.7;word-break:break-word;margin:0 0 12px}
.ids .more{font-family:inherit;color:var(--muted)}
.scroll{max-height:520px;overflow:auto;border:1px solid var(--line);border-radius:8px}
.scroll th{position:sticky;top:0}
.kind{display:inline-block;font-size:11px;font-weight:650;padding:1px 8px;border-radius:4px;background:#eef0f3;color:#475467}
.kind.fault{background:var(--fail-bg);color:var(--c-fault)}.kind.promotion{background:#f1eafc;color:var(--c-promo)}
.kind.ha{background:#eaf0fc;color:#2f5bd3}
tr.role td{color:var(--muted)}
.cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:20px}
.muted{color:var(--muted)}
footer{color:var(--muted);font-size:12px;text-align:center;padding:8px 0 24px}
`;

function idList(ids: number[], limit = ID_LIST_LIMIT): string {
  if (ids.length === 0) return `<p class="muted">none</p>`;
  const shown = ids.slice(0, limit).join(", ");
  const rest = ids.length - limit;
  const more = rest > 0 ? ` <span class="more">… and ${formatCount(rest)} more</span>` : "";
  return `<p class="ids">${shown}${more}</p>`;
}

function banner(report: RunReport): string {
  const { record: r, verification: v } = report;
  const passed = v.expectations.filter((e) => e.pass).length;
  const meta: [string, string][] = [
    ["topology", r.topology],
    ["backend", r.backend],
    ["run", r.run_id],
    ["started", r.started_at],
    ["duration", formatSeconds(r.duration_s, 1)],
  ];
  return `<header class="banner ${v.verdict}">
<div class="verdict">${v.verdict === "pass" ? "PASS" : "FAIL"}</div>
<div class="what"><h1>${esc(r.scenario)}</h1>
<div class="meta">${meta.map(([k, val]) => `<span>${k} <b>${esc(val)}</b></span>`).join("")}</div></div>
<div class="summary"><b>${passed} / ${v.expectations.length}</b>expectations met</div>
</header>`;
}

function expectations(report: RunReport): string {
  const rows = report.verification.expectations.map(
    (e) => `<tr class="${e.pass ? "pass" : "fail"}" data-key="${esc(e.key)}">
<td><code>${esc(e.key)}</code></td><td>${esc(e.expected)}</td><td>${esc(e.actual)}</td>
<td><span class="badge ${e.pass ? "pass" : "fail"}">${e.pass ? "PASS" : "FAIL"}</span></td></tr>`,
  );
  const body =
    rows.length > 0
      ? `<table class="expectations"><thead><tr><th>expectation</th><th>expected</th><th>actual</th><th>result</th></tr></thead><tbody>${rows.join("\n")}</tbody></table>`
      : `<p class="muted">The scenario states no expectations.</p>`;
  return `<section class="panel"><h2>Expectations</h2>${body}</section>`;
}

function card(label: string, value: string, sub: string, tone: "" | "bad" | "warn" = ""): string {
  return `<div class="card${tone ? ` ${tone}` : ""}"><div class="label">${esc(label)}</div><div class="value">${esc(value)}</div><div class="sub">${esc(sub)}</div></div>`;
}

function figures(report: RunReport): string {
  const { figures: f, rto_per_fault, promotions, unknown_found_ids, split_brain } = report.verification;
  const faults = rto_per_fault.length;
  const rtoSub =
    f.rto_s !== null
      ? faults > 1
        ? `worst of ${faults} faults`
        : "fault → first acknowledged write"
      : faults > 0
        ? "writes never recovered"
        : "no fault injected";
  const promoted = promotions.map((p) => `${p.member} → tl ${p.timeline}`).join(", ");
  const cards = [
    card("RTO", formatSeconds(f.rto_s), rtoSub, f.rto_s === null && faults > 0 ? "bad" : ""),
    card("Max write gap", formatSeconds(f.max_write_gap_s), "between acknowledged writes"),
    card("Acknowledged writes", formatCount(f.acknowledged_writes), `${formatCount(f.failed_writes)} failed`),
    card(
      "Lost writes",
      formatCount(f.lost_writes),
      "acknowledged, then missing",
      f.lost_writes > 0 ? "bad" : "",
    ),
    card(
      "Unknown writes",
      formatCount(f.unknown_writes),
      `${formatCount(unknown_found_ids.length)} found on final primary`,
      f.unknown_writes > 0 ? "warn" : "",
    ),
    card(
      "WAL loss",
      formatBytes(f.wal_loss_bytes),
      `${formatCount(f.wal_loss_bytes)} bytes past the fork`,
      f.wal_loss_bytes > 0 ? "bad" : "",
    ),
    card("Promotions", formatCount(f.promotions), promoted || "none"),
    card(
      "Split-brain",
      f.split_brain ? "YES" : "no",
      `window ${formatSeconds(f.split_brain_window_s)}`,
      f.split_brain ? "bad" : "",
    ),
  ];
  const evidence =
    split_brain.evidence.length > 0
      ? `<h3 style="margin-top:16px">Split-brain evidence</h3><ul class="plain">${split_brain.evidence.map((e) => `<li>${esc(e)}</li>`).join("")}</ul>`
      : "";
  return `<section class="panel"><h2>Figures</h2><div class="cards">${cards.join("\n")}</div>${evidence}</section>`;
}

function problems(report: RunReport): string {
  const list = allProblems(report);
  if (list.length === 0) return "";
  return `<section class="panel problems"><h2>Problems</h2><ul class="plain">${list.map((p) => `<li>${esc(p)}</li>`).join("")}</ul></section>`;
}

function legend(): string {
  const items: [string, string][] = [
    ["primary", "primary"],
    ["replica", "replica"],
    ["down", "down"],
    ["unreachable", "unreachable"],
    ["none", "no sample"],
    ["fault", "fault active"],
    ["promo", "promotion"],
    ["ok", "acknowledged writes"],
    ["failop", "failed"],
    ["unknownop", "unknown"],
  ];
  return `<div class="legend">${items.map(([cls, text]) => `<span><i class="sw ${cls}"></i>${text}</span>`).join("")}</div>`;
}

function timeline(report: RunReport): string {
  return `<section class="panel"><h2>Timeline</h2>${legend()}${renderTimelineSvg(report.record, report.verification)}</section>`;
}

function ids(report: RunReport): string {
  const v = report.verification;
  const found =
    v.unknown_found_ids.length > 0
      ? `<p class="muted">Committed after all (found on the final primary): ${v.unknown_found_ids.length}</p>${idList(v.unknown_found_ids)}`
      : "";
  return `<section class="panel"><h2>Write ids</h2>
<h3>Lost (${formatCount(v.lost_write_ids.length)})</h3>${idList(v.lost_write_ids)}
<h3>Unknown outcome (${formatCount(v.unknown_write_ids.length)})</h3>${idList(v.unknown_write_ids)}${found}</section>`;
}

/** Member column and text of one events-table row. */
function describe(e: TimelineEvent): [string, string] {
  switch (e.kind) {
    case "step":
      return ["", e.text];
    case "fault":
      return [e.members.join(", "), `${e.phase} ${e.fault} on ${e.target}`];
    case "role": {
      const tl = e.timeline === null ? "" : ` · timeline ${e.timeline}`;
      const lsn = e.lsn === null ? "" : ` · ${e.lsn}`;
      return [e.member, `${e.role}${tl}${lsn} (seen from ${e.observer})`];
    }
    case "promotion": {
      const fork = e.fork_lsn === null ? "" : ` forked at ${e.fork_lsn}`;
      return [e.member, `promoted to timeline ${e.timeline}${fork} — ${e.reason} (${e.source})`];
    }
    case "ha":
      return [e.member ?? "", `${e.source}: ${e.text}`];
  }
}

function events(report: RunReport): string {
  const rows = byTime(report.record.timeline).map((e) => {
    const [member, text] = describe(e);
    return `<tr class="${e.kind}"><td class="num">${nsToS(e.at_ns).toFixed(3)}</td><td><span class="kind ${e.kind}">${e.kind}</span></td><td>${esc(member)}</td><td>${esc(text)}</td></tr>`;
  });
  const body =
    rows.length > 0
      ? `<div class="scroll"><table><thead><tr><th style="text-align:right">time s</th><th>kind</th><th>member</th><th>event</th></tr></thead><tbody>${rows.join("\n")}</tbody></table></div>`
      : `<p class="muted">No events recorded.</p>`;
  return `<section class="panel"><h2>Events</h2>${body}</section>`;
}

function kvTable(entries: [string, unknown][]): string {
  if (entries.length === 0) return `<p class="muted">none recorded</p>`;
  const rows = entries.map(
    ([k, v]) => `<tr><td><code>${esc(k)}</code></td><td class="mono">${esc(formatValue(v))}</td></tr>`,
  );
  return `<table>${rows.join("")}</table>`;
}

function details(report: RunReport): string {
  const { record: r } = report;
  const nodes = r.final.nodes.map(
    (nd) =>
      `<tr><td><code>${esc(nd.member)}</code></td><td>${esc(nd.role)}</td><td class="num">${nd.timeline ?? "—"}</td><td class="mono">${esc(nd.lsn ?? "—")}</td></tr>`,
  );
  const finalTable =
    nodes.length > 0
      ? `<table><thead><tr><th>member</th><th>role</th><th style="text-align:right">timeline</th><th>lsn</th></tr></thead><tbody>${nodes.join("")}</tbody></table>`
      : `<p class="muted">not read</p>`;
  return `<section class="panel"><h2>Run details</h2><div class="cols">
<div><h3>Versions</h3>${kvTable(Object.entries(r.versions))}</div>
<div><h3>Settings</h3>${kvTable(Object.entries(maskSettings(r.settings)))}</div>
<div><h3>Final state · primary ${esc(r.final.primary ?? "none")}</h3>${finalTable}</div>
</div></section>`;
}

/** The whole report as one self-contained page: inline CSS and SVG, no scripts, no external resources. */
export function renderHtml(report: RunReport): string {
  const { record: r, verification: v } = report;
  const title = `pgchaos · ${r.scenario} · ${v.verdict.toUpperCase()}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${banner(report)}
${expectations(report)}
${figures(report)}
${problems(report)}
${timeline(report)}
${ids(report)}
${events(report)}
${details(report)}
<footer>pgchaos report · ${esc(r.run_id)}</footer>
</main>
</body>
</html>
`;
}

export const htmlReporter: Reporter = {
  name: "html",
  async write(report, dir) {
    await mkdir(dir, { recursive: true });
    const path = join(dir, "report.html");
    await writeFile(path, renderHtml(report));
    return [path];
  },
};
