import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { RtoBound, RtoPhaseName } from "../model/figures.ts";
import type { GroupFigures, Outage, Verification } from "../model/figures.ts";
import type { WriteOperation } from "../model/history.ts";
import type { TimelineEvent } from "../model/timeline.ts";
import { FIGURES, type ScalarFigure, formatFigure } from "../verify/catalogue.ts";
import { type Card, card, figureCards, notZero } from "./cards.ts";
import { renderWorkloadSvg } from "./chart.ts";
import { escapeHtml as esc } from "./escape.ts";
import { formatCount, formatSeconds, formatValue, nsToS, planFacts, stackLabel } from "./format.ts";
import { allProblems } from "./json.ts";
import { type NodeLog, readNodeLogs } from "./logs.ts";
import { byTime, faultBands, haStatusSegments, outageSeconds, outagesNamePaths, runEndNs } from "./model.ts";
import { HA_COLORS, HA_LABELS, faultColor } from "./palette.ts";
import { readsSection } from "./reads-html.ts";
import { maskSettings, maskText } from "./redact.ts";
import type { Reporter, RunReport } from "./reporter.ts";
import { SCRIPT } from "./script.ts";
import { CSS } from "./styles.ts";
import { renderTimelineSvg } from "./svg.ts";

export { escapeHtml } from "./escape.ts";

/** How many lost / unknown writes are listed before the rest is summarised. */
export const ID_LIST_LIMIT = 200;

/**
 * Nothing may be fetched: the page must open from disk and as a CI artefact, and a stray request
 * is a privacy leak. The browser enforces it; inline styles and the one inline script are allowed.
 */
export const CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

/** What the reporter read from disk for the page; rendering itself stays pure. */
export interface HtmlExtras {
  logs?: NodeLog[];
}

/** The page shell shared with the invocation index. */
export function page(title: string, nav: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
${nav}
<main>
${body}
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

function idList(ids: number[], limit = ID_LIST_LIMIT): string {
  if (ids.length === 0) return `<p class="muted">none</p>`;
  const shown = ids.slice(0, limit).join(", ");
  const rest = ids.length - limit;
  const more = rest > 0 ? ` <span class="more">… and ${formatCount(rest)} more</span>` : "";
  return `<p class="ids">${shown}${more}</p>`;
}

const SECTIONS: [string, string][] = [
  ["figures", "Figures"],
  ["reads", "Reads"],
  ["timeline", "Timeline"],
  ["workload", "Workload"],
  ["writes", "Writes"],
  ["events", "Events"],
  ["cluster", "Cluster"],
  ["logs", "Logs"],
];

function nav(report: RunReport): string {
  const { record: r, verification: v } = report;
  // The two findings that open the page get a link only when the run has them.
  const sections: [string, string][] = [
    ...(v.explanation ? ([["why", "Why"]] as [string, string][]) : []),
    ...(v.divergence ? ([["divergence", "Diverged"]] as [string, string][]) : []),
    ...SECTIONS,
  ];
  return `<nav class="topnav"><div class="in"><span class="brand">pgchaos</span>
<span class="crumb"><span class="pill ${v.verdict}">${v.verdict.toUpperCase()}</span> ${esc(r.scenario)} · ${esc(r.topology)} · run ${esc(r.run_id)}</span>
<span class="links">${sections.map(([id, text]) => `<a href="#${id}">${text}</a>`).join("")}</span></div></nav>`;
}

/** The id of the events-table row an instant links to: the first event recorded at that instant. */
export function eventAnchor(at_ns: number): string {
  return `ev-${at_ns}`;
}

/**
 * Why acknowledged writes were lost, in verify's one sentence, above everything else; then the
 * events it rests on, each linked to its row of the events table.
 */
function headline(report: RunReport): string {
  const { record: r, verification: v } = report;
  const why = v.explanation;
  if (!why) return "";
  const recorded = new Set(r.timeline.map((e) => e.at_ns));
  const items = why.evidence.map((e) => {
    const at = `${s3(e.at_ns)} s`;
    // Evidence verify drew from elsewhere than the timeline has no row to link to.
    const time = recorded.has(e.at_ns) ? `<a href="#${eventAnchor(e.at_ns)}">${at}</a>` : at;
    return `<li><span class="mt">${time}</span><span>${esc(maskText(e.text))}</span></li>`;
  });
  const list = items.length > 0 ? `<ol class="evidence">${items.join("")}</ol>` : "";
  return `<section class="panel headline bad" id="why"><p class="why"><b>Why:</b> ${esc(maskText(why.text))}</p>${list}</section>`;
}

/** Each writable side of a run that ended split, as verify judged it: what it lacks, per group too. */
function divergencePanel(report: RunReport): string {
  const d = report.verification.divergence;
  if (!d) return "";
  const rows = d.sides.map((side) => {
    const ha = side.ha_primary
      ? `<span class="badge fail">HA primary</span>`
      : `<span class="muted">not the HA manager's primary</span>`;
    const missing =
      side.missing_ids === null
        ? `<td class="num absent" title="its ledger could not be read">—</td>`
        : `<td class="num${side.missing_ids.length > 0 ? " bad" : ""}">${formatCount(side.missing_ids.length)}</td>`;
    const groups = Object.entries(side.missing_by_group)
      .map(([group, n]) => `<code>${esc(group)}</code> ${formatCount(n)}`)
      .join(" · ");
    const ids = side.missing_ids === null ? `<p class="muted">ledger not read</p>` : idList(side.missing_ids);
    return `<tr data-member="${esc(side.member)}"><td><code>${esc(side.member)}</code></td><td>${ha}</td><td class="num">${side.timeline ?? "—"}</td><td class="mono">${esc(side.lsn ?? "—")}</td>${missing}<td>${groups || `<span class="muted">none</span>`}</td><td>${ids}</td></tr>`;
  });
  return `<section class="panel diverged" id="divergence"><h2>Diverged: ${esc(d.members.join(", "))}</h2>
<p class="hint">More than one node was writable at the end: each side lacks acknowledged writes the other holds. Lost writes are judged against the HA manager's primary; both sides are shown.</p>
<div class="scroll"><table class="divergence-table"><thead><tr><th>member</th><th>HA manager</th><th class="num">timeline</th><th>last lsn</th><th class="num">acknowledged writes missing</th><th>per writer group</th><th>missing ids</th></tr></thead><tbody>${rows.join("")}</tbody></table></div></section>`;
}

function banner(report: RunReport): string {
  const { record: r, verification: v } = report;
  const passed = v.expectations.filter((e) => e.pass).length;
  const meta: [string, string][] = [
    ["topology", r.topology],
    ["backend", r.backend],
    ["stack", stackLabel(r.stack)],
    ["run", r.run_id],
    ["started", r.started_at],
    ["duration", formatSeconds(r.duration_s, 1)],
    ...planFacts(r).filter(([k]) => k !== "seed"),
  ];
  const desc = report.scenarioDescription ? `<p class="desc">${esc(report.scenarioDescription)}</p>` : "";
  return `<header class="banner ${v.verdict}">
<div class="verdict">${v.verdict === "pass" ? "PASS" : "FAIL"}</div>
<div class="what"><h1>${esc(r.scenario)}</h1>${desc}
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
  return `<section class="panel" id="expectations"><h2>Expectations</h2>${body}</section>`;
}

function problems(report: RunReport): string {
  const list = allProblems(report);
  if (list.length === 0) return "";
  return `<section class="panel problems"><h2>Problems</h2><ul class="plain">${list.map((p) => `<li>${esc(p)}</li>`).join("")}</ul></section>`;
}

interface Moment {
  at_ns: number;
  color: string;
  html: string;
}

/**
 * The few instants a reader looks for first, in order: the workload starting, each fault and its
 * heal, when writes became impossible and came back, promotions. All of them are recorded or
 * computed by verify; this only lines them up.
 */
export function keyMoments(report: RunReport): Moment[] {
  const { record: r, verification: v } = report;
  const moments: Moment[] = [];
  let firstInvoke: number | null = null;
  for (const op of r.history)
    if (firstInvoke === null || op.invoke_ns < firstInvoke) firstInvoke = op.invoke_ns;
  if (firstInvoke !== null) {
    moments.push({ at_ns: firstInvoke, color: "var(--c-ok)", html: "first write of the workload" });
  }
  for (const b of faultBands(r.timeline, runEndNs(r))) {
    const who = b.members.length > 0 ? ` → ${esc(b.members.join(", "))}` : "";
    const color = faultColor(b.fault);
    moments.push({
      at_ns: b.start_ns,
      color,
      html: `<b>${esc(b.fault)}</b> ${esc(b.target)}${who} injected`,
    });
    if (b.healed) moments.push({ at_ns: b.end_ns, color, html: `${esc(b.fault)} ${esc(b.target)} healed` });
  }
  const namePaths = outagesNamePaths(v.outages);
  for (const o of v.outages) {
    const through = namePaths ? ` through ${esc(o.group)}` : "";
    moments.push({ at_ns: o.start_ns, color: "var(--c-rto)", html: `writes impossible${through} from here` });
    if (o.end_ns !== null) {
      moments.push({
        at_ns: o.end_ns,
        color: "var(--c-rto)",
        html: `first new write acknowledged${through} · <b>RTO ${esc(formatSeconds(outageSeconds(o)))}</b>`,
      });
    }
  }
  for (const p of v.promotions) {
    const fork = p.fork_lsn === null ? ", fork point unknown" : `, forked at ${esc(p.fork_lsn)}`;
    const sampled = p.unrecorded ? ` <span class="muted">(seen only by role samples)</span>` : "";
    moments.push({
      at_ns: p.at_ns,
      color: "var(--c-promo)",
      html: `<b>${esc(p.member)}</b> promoted to timeline ${p.timeline}${fork}${sampled}`,
    });
  }
  if (v.divergence) {
    // Divergence is judged on the final state: it is the last thing that happened.
    moments.push({
      at_ns: runEndNs(r),
      color: "var(--c-fail)",
      html: `<a href="#divergence"><b>diverged</b></a>: ${esc(v.divergence.members.join(" and "))} still writable at the end`,
    });
  }
  for (const r of v.name_service?.repointings ?? []) {
    if (r.repointed_ns === null || r.delay_s === null) continue;
    moments.push({
      at_ns: r.repointed_ns,
      color: "var(--c-ha)",
      html: `<b>${esc(v.name_service?.name ?? "")}</b> re-pointed at ${esc(r.member)}, ${esc(formatSeconds(r.delay_s))} after its promotion`,
    });
  }
  return moments.sort((a, b) => a.at_ns - b.at_ns);
}

function moments(report: RunReport): string {
  const list = keyMoments(report);
  const items = list.map(
    (m) =>
      `<li><span class="mt">${s3(m.at_ns)} s</span><i class="dot" style="background:${m.color}"></i><span>${m.html}</span></li>`,
  );
  const body =
    items.length > 0
      ? `<ol class="moments">${items.join("")}</ol>`
      : `<p class="muted">Nothing happened.</p>`;
  return `<section class="panel" id="moments"><h2>What happened</h2>${body}</section>`;
}

function figures(report: RunReport): string {
  const { figures: f, rto_per_fault, promotions, unknown_found_ids, split_brain } = report.verification;
  const faults = rto_per_fault.length;
  const rtoSub =
    f.rto_s !== null
      ? faults > 1
        ? `writes impossible · worst of ${faults} faults`
        : "how long writes were impossible"
      : faults > 0
        ? "writes never recovered"
        : "no fault injected";
  const promoted = promotions.map((p) => `${p.member} → tl ${p.timeline}`).join(", ");
  // Result files written before these two figures existed lack them: say so rather than imply a value.
  const blockedMeasured = f.write_blocked_s !== undefined;
  const rejoinMeasured = f.old_primary_rejoin_s !== undefined;
  const { unknown } = report.verification;
  const fc = figureCards(f, unknown);
  // Several paths: each RTO beside the bound that path is held to, never the HA bound beside a name's.
  const paths = report.verification.paths;
  const rtoPaths =
    paths.length > 1
      ? paths
          .map(
            (p) =>
              `${p.path} ${formatSeconds(p.rto_s)}${p.bound_s === null ? "" : ` (bound ${secs(p.bound_s)})`}`,
          )
          .join(" · ")
      : null;
  const overBound = paths.some((p) => p.rto_s !== null && p.bound_s !== null && p.rto_s > p.bound_s);
  const cards: Card[] = [
    fc(
      "rto_s",
      rtoPaths ?? rtoSub,
      f.rto_s === null && faults > 0 ? "bad" : rtoPaths !== null && overBound ? "warn" : "",
    ),
    fc("max_write_gap_s", "between acknowledged writes"),
    fc("write_blocked_s", blockedMeasured ? "writes waited, not refused" : "not measured in this run"),
    fc("acknowledged_writes", `${formatFigure("failed_writes", f)} failed`),
    fc("lost_writes", "acknowledged, then missing", notZero(f.lost_writes) ? "bad" : ""),
    fc(
      "unknown_writes",
      `${formatCount(unknown_found_ids.length)} found on final primary`,
      f.unknown_writes > 0 ? "warn" : "",
    ),
    fc("wal_loss_bytes", walLossSub(report), notZero(f.wal_loss_bytes) ? "bad" : ""),
    fc("promotions", promoted || "none"),
    fc(
      "diverged",
      f.diverged
        ? `${report.verification.divergence?.members.join(", ") ?? "more than one node"} writable at the end`
        : "one writable node at the end",
      f.diverged ? "bad" : "",
    ),
    fc(
      "split_brain_window_s",
      f.split_brain ? "two members acknowledged writes" : "no two members acknowledged at once",
      f.split_brain ? "bad" : "",
      f.split_brain ? formatFigure("split_brain_window_s", f) : "none",
    ),
    fc(
      "dual_primary_s",
      f.dual_primary_s > 0 ? "two members sampled writable" : "never two sampled primaries",
      f.dual_primary_s > 0 ? "warn" : "",
    ),
    fc("old_primary_rejoin_s", rejoinMeasured ? "heal → replicating again" : "not measured in this run"),
  ];
  const evidenceList = (title: string, lines: string[]) =>
    lines.length > 0
      ? `<h3 style="margin-top:16px">${title}</h3><ul class="plain">${lines.map((e) => `<li>${esc(maskText(e))}</li>`).join("")}</ul>`
      : "";
  const names = report.verification.name_service;
  if (names !== null) {
    const repointed = names.repointings.map((r) =>
      r.delay_s === null
        ? `never pointed at ${r.member}`
        : `at ${r.member} ${formatSeconds(r.delay_s)} after its promotion`,
    );
    cards.push(
      fc(
        "repoint_delay_s",
        repointed.join("; ") || `${names.name}: no promotion to follow`,
        names.repointings.some((r) => r.delay_s === null) ? "bad" : "",
      ),
      fc(
        "stale_name_writes",
        `acknowledged by a former primary · ${formatFigure("stale_name_refused_writes", f)} refused or unanswered`,
        notZero(f.stale_name_writes) ? "bad" : "",
      ),
    );
  }
  const staleWrites = (names?.stale_writes ?? []).map(
    (w) =>
      `${w.outcome === "ok" ? "acknowledged" : w.outcome} write ${w.id} (${w.group}) on ${w.node} at ${s3(w.invoke_ns)} s, after ${w.primary} was promoted`,
  );
  const evidence = `${evidenceList("Split-brain evidence", split_brain.evidence)}${evidenceList("Dual-primary evidence", report.verification.dual_primary.evidence)}${evidenceList(`Writes by name that reached a former primary${staleWrites.length > STALE_LISTED ? ` (first ${STALE_LISTED} of ${staleWrites.length})` : ""}`, staleWrites.slice(0, STALE_LISTED))}`;
  return `<section class="panel" id="figures"><h2>Key figures</h2><div class="cards">${cards.map(card).join("\n")}</div>${rtoTable(report)}${boundNote(report.verification.rto_bound, paths)}${groupTable(report)}${evidence}</section>`;
}

/** The WAL-loss card's line: per promotion, what was measured (the table under Writes has the rest). */
function walLossSub(report: RunReport): string {
  const { figures: f, wal_loss: details, promotions } = report.verification;
  if (details.length === 0) {
    return promotions.length === 0
      ? "no promotion: no timeline forked"
      : `${formatFigure("wal_loss_bytes", f)} past the fork · not itemised in this result`;
  }
  return details
    .map((d) => {
      const what =
        d.kind === "abandoned" ? `tl ${d.timeline} abandoned` : `tl ${d.measured_timeline} past the fork`;
      return `${d.member} → tl ${d.timeline}: ${what}, ${d.loss_bytes === null ? "unknown" : formatFigure("wal_loss_bytes", { wal_loss_bytes: d.loss_bytes })}`;
    })
    .join(" · ");
}

/** Stale-name writes listed as evidence: the acknowledged ones come first, then the refused. */
const STALE_LISTED = 20;

/** The per-group columns, in the catalogue's words. */
const GROUP_COLUMNS = [
  "rto_s",
  "max_write_gap_s",
  "acknowledged_writes",
  "failed_writes",
  "unknown_writes",
  "lost_writes",
] as const satisfies readonly (keyof GroupFigures & ScalarFigure)[];

/** Per writer group (direct, through an entry point, a placement): only worth a table with two or more. */
function groupTable(report: RunReport): string {
  const groups = Object.entries(report.verification.figures.groups ?? {});
  if (groups.length < 2) return "";
  const rows = groups.map(([name, g]) => {
    const cells = GROUP_COLUMNS.map(
      (key) =>
        `<td class="num${key === "lost_writes" && notZero(g.lost_writes) ? " bad" : ""}">${formatFigure(key, g)}</td>`,
    );
    return `<tr data-group="${esc(name)}"><td><code>${esc(name)}</code></td>${cells.join("")}</tr>`;
  });
  const head = GROUP_COLUMNS.map((key) => `<th class="num">${esc(FIGURES[key].short)}</th>`).join("");
  return `<h3 style="margin-top:18px">Per writer group</h3><table class="group-table"><thead><tr><th>group</th>${head}</tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

/** Verify's outages, one row per fault (and per entry point when clients wrote through several). */
function rtoTable(report: RunReport): string {
  const list = report.verification.outages;
  if (list.length === 0) return "";
  const namePaths = outagesNamePaths(list);
  const bands = faultBands(report.record.timeline, runEndNs(report.record));
  const rows = list.map((o) => {
    const band = bands.find((b) => b.fault === o.fault && b.target === o.target && b.start_ns === o.at_ns);
    const members = band && band.members.length > 0 ? ` → ${band.members.join(", ")}` : "";
    const healed = band?.healed ? s3(band.end_ns) : "—";
    const recovered = o.end_ns === null ? "never" : s3(o.end_ns);
    const path = namePaths ? `<td><code>${esc(o.group)}</code></td>` : "";
    return `<tr><td><i class="sw fault" style="background:${faultColor(o.fault)}33;border-color:${faultColor(o.fault)}"></i>${esc(o.fault)} <span class="muted">${esc(o.target)}${esc(members)}</span></td>${path}<td class="num">${s3(o.at_ns)}</td><td class="num">${s3(o.start_ns)}</td><td class="num">${recovered}</td><td class="num">${healed}</td><td class="num"><b>${formatSeconds(outageSeconds(o), 3)}</b></td>${phaseCells(report.verification, o)}</tr>`;
  });
  const pathHead = namePaths ? "<th>entry point</th>" : "";
  const phaseHead = PHASES.map(
    ([, label, help]) => `<th class="num" title="${esc(help)}">${label}</th>`,
  ).join("");
  return `<h3 style="margin-top:18px">Per fault</h3><table class="rto-table"><thead><tr><th>fault</th>${pathHead}<th class="num">injected s</th><th class="num">writes impossible from s</th><th class="num">first new ack s</th><th class="num">healed s</th><th class="num">RTO</th>${phaseHead}</tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

/** The RTO's phases as columns: name, head, and what bounds them. */
const PHASES: readonly [RtoPhaseName, string, string][] = [
  [
    "detection",
    "detection",
    "Writes impossible → the HA manager's first reaction (lock race, failover goal, …)",
  ],
  ["election", "election", "First reaction → the promotion the HA manager recorded"],
  ["reconnection", "reconnection", "Promotion → the first acknowledged write on this entry point"],
];

const secs = (s: number): string => `${Number(s.toFixed(3))} s`;

/** Each phase beside its share of the bound; "—" where its boundary event was not recorded. */
function phaseCells(v: Verification, o: Outage): string {
  const phases = v.rto_per_fault.find((f) => f.at_ns === o.at_ns && f.fault === o.fault)?.phases ?? null;
  const reaction = phases?.reaction;
  const titles: Record<RtoPhaseName, string> = {
    detection: reaction
      ? `ended by ${reaction.member ?? "the HA manager"}: ${reaction.text}`
      : "no reaction recorded",
    election: phases
      ? `promotion of ${phases.promotion.member} (${phases.promotion.source})`
      : "no promotion",
    reconnection: `first acknowledged write on ${o.group} after the promotion`,
  };
  const values: Record<RtoPhaseName, number | null> = {
    detection: phases?.detection_s ?? null,
    election: phases?.election_s ?? null,
    // This path's own; "—" when it has none (it wrote again before the promotion was recorded), never
    // another path's. The fault-wide figure only for results from before it was split per path.
    reconnection:
      phases === null
        ? null
        : o.group in phases.reconnection_per_entrypoint
          ? (phases.reconnection_per_entrypoint[o.group] ?? null)
          : phases.reconnection_s,
  };
  // A name re-pointed late is allowed its poll interval and TTL beyond the failover: that is the
  // reconnection's share on that path (its bound beside the HA bound, both verify's).
  const pathBound = v.paths.find((p) => p.path === o.group)?.bound_s ?? null;
  const lateName =
    v.rto_bound && pathBound !== null && pathBound > v.rto_bound.bound_s
      ? pathBound - v.rto_bound.bound_s
      : 0;
  const base = v.rto_bound?.share_s;
  const shares = base && { ...base, reconnection: base.reconnection + lateName };
  const cell = (phase: string, value: number | null, share: number | undefined, title: string, span = "") => {
    // Over a share the settings give it; a phase the bound gives nothing is not flagged on every run.
    const over = value !== null && share !== undefined && share > 0 && value > share;
    const of = share === undefined ? "" : `<span class="muted"> / ${secs(share)}</span>`;
    return `<td class="num${over ? " warn" : ""}"${span} data-phase="${phase}" title="${esc(title)}">${formatSeconds(value, 2)}${of}</td>`;
  };
  const reconnection = cell("reconnection", values.reconnection, shares?.reconnection, titles.reconnection);
  // No reaction recorded to split them (repmgr): detection and election as one span to the promotion.
  if (phases && phases.detection_s === null && phases.until_promotion_s !== null) {
    const share = shares && shares.detection + shares.election;
    const title = `no reaction recorded: outage start → ${titles.election}`;
    return cell("until_promotion", phases.until_promotion_s, share, title, ' colspan="2"') + reconnection;
  }
  return `${PHASES.slice(0, 2)
    .map(([phase]) => cell(phase, values[phase], shares?.[phase], titles[phase]))
    .join("")}${reconnection}`;
}

/**
 * The bound this run's own settings imply, part by part, so the RTO reads against it; with several
 * client paths, each path's RTO beside the bound verify holds that path to.
 */
function boundNote(bound: RtoBound | null, paths: Verification["paths"] = []): string {
  if (bound === null) {
    return `<p class="muted rto-bound">No RTO bound: none can be derived from this run's HA settings.</p>`;
  }
  const parts = bound.parts.map((p) => `${esc(p.name)} ${secs(p.s)}`).join(" + ");
  const note = bound.note ? ` ${esc(bound.note)}.` : "";
  const own = paths.some((p) => p.bound_s !== bound.bound_s);
  const note2 = `<p class="muted rto-bound" title="${esc(bound.formula)}">Bound the settings imply${own ? " for the direct paths" : ""}: <b>${secs(bound.bound_s)}</b> = ${parts}.${note}</p>`;
  if (paths.length < 2) return note2;
  const rows = paths.map((p) => {
    const over = p.rto_s !== null && p.bound_s !== null && p.rto_s > p.bound_s;
    const extra =
      p.bound_s !== null && p.bound_s !== bound.bound_s
        ? ` <span class="muted">(failover ${secs(bound.bound_s)} + poll interval and TTL ${secs(p.bound_s - bound.bound_s)})</span>`
        : "";
    return `<tr data-path="${esc(p.path)}"><td><code>${esc(p.path)}</code></td><td class="num${over ? " warn" : ""}">${formatSeconds(p.rto_s, 2)}</td><td class="num">${p.bound_s === null ? "—" : secs(p.bound_s)}${extra}</td></tr>`;
  });
  return `${note2}<table class="paths-table"><thead><tr><th>path</th><th class="num">RTO</th><th class="num">its bound</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

function legendGroup(title: string, items: string[]): string {
  return `<span class="group"><span class="gl">${esc(title)}</span>${items.join("")}</span>`;
}

function faultLegend(report: RunReport): string[] {
  const kinds = [...new Set(faultBands(report.record.timeline, runEndNs(report.record)).map((b) => b.fault))];
  return kinds.map((k) => {
    const c = faultColor(k);
    return `<span><i class="sw fault" style="background:${c}1f;border-color:${c}"></i>${esc(k)}</span>`;
  });
}

function timelineLegend(report: RunReport): string {
  const roles: [string, string][] = [
    ["primary", "primary"],
    ["replica", "replica"],
    ["down", "down"],
    ["unreachable", "unreachable"],
    ["frozen", "frozen"],
    ["none", "not sampled"],
  ];
  const states = [
    ...new Set(haStatusSegments(report.record.timeline, runEndNs(report.record)).map((s) => s.state)),
  ];
  const hasImplied = report.record.members.some(
    (m) => !report.record.timeline.some((e) => e.kind === "role" && e.member === m.name),
  );
  const roleItems = roles.map(([cls, text]) => `<span><i class="sw ${cls}"></i>${text}</span>`);
  if (hasImplied) roleItems.push(`<span><i class="sw implied"></i>implied by a fault</span>`);
  const groups = [legendGroup("Role", roleItems)];
  if (states.length > 0) {
    groups.push(
      legendGroup(
        "HA status",
        states.map(
          (s) => `<span><i class="sw" style="background:${HA_COLORS[s]}"></i>${HA_LABELS[s]}</span>`,
        ),
      ),
    );
  }
  const faults = faultLegend(report);
  if (faults.length > 0) groups.push(legendGroup("Fault", faults));
  groups.push(
    legendGroup("Marker", [
      `<span><i class="sw promo"></i>promotion</span>`,
      `<span><i class="sw ha"></i>HA-manager event</span>`,
      `<span><i class="sw split"></i>two members writable at once (split-brain)</span>`,
    ]),
  );
  return `<div class="legend">${groups.join("")}</div>`;
}

function timeline(report: RunReport): string {
  return `<section class="panel" id="timeline"><h2>Timeline</h2>
<p class="hint">Each member's role as sampled from outside every 100 ms; the top lane is what the HA manager itself reported. Hover for details.</p>
${timelineLegend(report)}${renderTimelineSvg(report.record, report.verification)}</section>`;
}

function workload(report: RunReport): string {
  const items = [
    `<span><i class="sw ok"></i>acknowledged writes/s</span>`,
    `<span><i class="sw line p50"></i>latency p50</span>`,
    `<span><i class="sw line p99"></i>latency p99</span>`,
    `<span><i class="sw failop"></i>failed</span>`,
    `<span><i class="sw unknownop"></i>unknown</span>`,
    `<span><i class="sw rto"></i>RTO</span>`,
    `<span><i class="sw promo"></i>promotion</span>`,
    ...(report.verification.name_service ? [`<span><i class="sw repoint"></i>name re-pointed</span>`] : []),
  ];
  const faults = faultLegend(report);
  const legend = `<div class="legend">${legendGroup("Writes", items)}${faults.length > 0 ? legendGroup("Fault", faults) : ""}</div>`;
  return `<section class="panel" id="workload"><h2>Workload</h2>
<p class="hint">Per 100 ms bucket, by the time each write's outcome became known; latency is complete − invoke of the acknowledged writes in the bucket.</p>
${legend}${renderWorkloadSvg(report.record, report.verification)}</section>`;
}

function s3(ns: number): string {
  return nsToS(ns).toFixed(3);
}

function writeRow(id: number, status: string, op: WriteOperation | undefined): string {
  if (!op) {
    return `<tr><td class="num">${id}</td><td>${esc(status)}</td><td colspan="7" class="muted">not in the history</td></tr>`;
  }
  return `<tr data-id="${id}"><td class="num">${id}</td><td>${esc(status)}</td><td>${esc(op.writer)}</td><td class="num">${s3(op.invoke_ns)}</td><td class="num">${s3(op.complete_ns)}</td><td>${esc(op.node ?? "—")}</td><td class="num">${op.timeline ?? "—"}</td><td class="mono">${esc(op.lsn ?? "—")}</td><td>${esc(maskText(op.error ?? ""))}</td></tr>`;
}

function writes(report: RunReport): string {
  const { record: r, verification: v } = report;
  const byId = new Map(r.history.map((op) => [op.id, op]));
  const found = new Set(v.unknown_found_ids);
  const rows = [
    ...v.lost_write_ids.slice(0, ID_LIST_LIMIT).map((id) => writeRow(id, "lost", byId.get(id))),
    ...v.unknown_write_ids
      .slice(0, ID_LIST_LIMIT)
      .map((id) => writeRow(id, found.has(id) ? "unknown · committed" : "unknown", byId.get(id))),
  ];
  const more = (ids: number[], what: string) =>
    ids.length > ID_LIST_LIMIT
      ? `<p class="more">… and ${formatCount(ids.length - ID_LIST_LIMIT)} more ${what} writes (all ids are in result.json)</p>`
      : "";
  const table =
    rows.length > 0
      ? `<div class="scroll"><table class="writes-table"><thead><tr><th class="num">id</th><th>status</th><th>writer</th><th class="num">invoked s</th><th class="num">answered s</th><th>node</th><th class="num">timeline</th><th>lsn</th><th>error</th></tr></thead><tbody>${rows.join("")}</tbody></table></div>${more(v.lost_write_ids, "lost")}${more(v.unknown_write_ids, "unknown")}`
      : `<p class="muted">No acknowledged write was lost and every outcome was known.</p>`;
  return `<section class="panel" id="writes"><h2>Lost and unknown writes</h2>
<div class="cols"><div><h3>Lost (${formatCount(v.lost_write_ids.length)})</h3>${idList(v.lost_write_ids)}</div>
<div><h3>Unknown outcome (${formatCount(v.unknown_write_ids.length)})</h3>${idList(v.unknown_write_ids)}</div></div>
${table}
<h3 style="margin-top:18px">WAL position per node, read after the final heal</h3>${lsnTable(report)}${walLossTable(report)}</section>`;
}

function lsnTable(report: RunReport): string {
  const { record: r, verification: v } = report;
  const rows = r.final.nodes.map((nd) => {
    // Two nodes promoted apart may reuse a timeline number: the node's own promotion first.
    const onTimeline = v.promotions.filter((p) => p.timeline === nd.timeline);
    const p = onTimeline.find((x) => x.member === nd.member) ?? onTimeline.at(-1);
    const fork = p
      ? `${esc(p.fork_lsn ?? "unknown")} <span class="muted">(${esc(p.member)} promoted at ${s3(p.at_ns)} s)</span>`
      : `<span class="muted">—</span>`;
    const primary = r.final.primary === nd.member ? ` <span class="badge pass">final primary</span>` : "";
    return `<tr data-member="${esc(nd.member)}"><td><code>${esc(nd.member)}</code>${primary}</td><td>${esc(nd.role)}</td><td class="num">${nd.timeline ?? "—"}</td><td class="mono">${esc(nd.lsn ?? "—")}</td><td class="mono">${fork}</td></tr>`;
  });
  const history = v.promotions.map((p) => {
    const from =
      p.fork_source === "timeline history"
        ? "fork point from PostgreSQL's timeline history"
        : p.fork_source === "ha manager"
          ? `fork point from ${p.source} only`
          : "neither PostgreSQL's timeline history nor the HA manager recorded the fork point";
    // The HA manager's own figure, when it disagrees with PostgreSQL's: one of them is wrong.
    const ha =
      p.ha_fork_lsn !== null && p.ha_fork_lsn !== p.fork_lsn
        ? ` <span class="warn">${esc(p.source)} says <code>${esc(p.ha_fork_lsn)}</code></span>`
        : "";
    const who = p.unrecorded
      ? `<span class="warn">seen only by role samples — ${esc(p.unrecorded)}</span>`
      : `<span class="muted">(${esc(p.source)})</span>`;
    return `<li data-member="${esc(p.member)}" data-timeline="${p.timeline}">timeline ${p.timeline} forked from timeline ${p.parent} at <code>${esc(p.fork_lsn ?? "unknown LSN")}</code> <span class="muted">(${esc(from)})</span>${ha}: ${esc(p.member)} promoted at ${s3(p.at_ns)} s ${who}</li>`;
  });
  const table =
    rows.length > 0
      ? `<table class="lsn-table"><thead><tr><th>member</th><th>role</th><th class="num">timeline</th><th>last lsn</th><th>fork point of its timeline</th></tr></thead><tbody>${rows.join("")}</tbody></table>`
      : `<p class="muted">The final state was not read.</p>`;
  return `${table}${history.length > 0 ? `<ul class="plain" style="margin-top:10px">${history.join("")}</ul>` : ""}`;
}

/** WAL loss per promotion as verify measured it, or why it could not. */
function walLossTable(report: RunReport): string {
  const { wal_loss: details, promotions } = report.verification;
  const title = `<h3 style="margin-top:18px">WAL loss per promotion</h3>`;
  if (details.length === 0) {
    if (promotions.length === 0) return "";
    return `${title}<p class="muted">Not itemised in this result file (written before WAL loss was measured per promotion).</p>`;
  }
  const rows = details.map((d) => {
    const what =
      d.kind === "abandoned"
        ? `timeline ${d.timeline} itself, abandoned: the final primary does not descend from it`
        : `timeline ${d.measured_timeline} past the fork`;
    const loss =
      d.loss_bytes === null
        ? `<td class="num warn" title="${esc(d.unknown ?? "")}">— <span class="muted">unknown: ${esc(d.unknown ?? "not measured")}</span></td>`
        : `<td class="num${d.loss_bytes > 0 ? " bad" : ""}">${formatFigure("wal_loss_bytes", { wal_loss_bytes: d.loss_bytes })}</td>`;
    return `<tr data-member="${esc(d.member)}" data-timeline="${d.timeline}" data-kind="${d.kind}"><td><code>${esc(d.member)}</code> → timeline ${d.timeline}</td><td>${esc(what)}</td><td class="mono">${esc(d.fork_lsn ?? "—")}</td><td class="mono">${esc(d.max_acked_lsn ?? "—")}</td>${loss}</tr>`;
  });
  return `${title}<table class="wal-loss-table"><thead><tr><th>promotion</th><th>acknowledged WAL measured on</th><th>fork lsn</th><th>highest acknowledged lsn</th><th class="num">lost</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

/** Who said it: the harness, the role sampler, or the HA manager (its log, API or history). */
function sourceOf(e: TimelineEvent): string {
  switch (e.kind) {
    case "step":
    case "fault":
    case "nemesis":
      return "pgchaos";
    case "role":
      return `sampler (${e.observer})`;
    case "fork":
      return "PostgreSQL (timeline history)";
    case "promotion":
    case "ha":
    case "repoint":
      return e.source;
  }
}

/** Member column and text of one events-table row. */
function describe(e: TimelineEvent): [string, string] {
  switch (e.kind) {
    case "step":
      return ["", e.text];
    case "fault":
      return [
        e.members.join(", "),
        `${e.phase} ${e.fault} on ${e.target}${e.detail ? ` — ${e.detail}` : ""}`,
      ];
    case "nemesis": {
      const faults = e.schedule.map(
        (f) =>
          `${f.fault} ${f.target} at ${(f.at_ms / 1000).toFixed(1)} s${f.duration_ms === null ? "" : ` for ${(f.duration_ms / 1000).toFixed(1)} s`}`,
      );
      return ["", `nemesis schedule, seed ${e.seed}: ${faults.join("; ") || "no fault"}`];
    }
    case "role": {
      const tl = e.timeline === null ? "" : ` · timeline ${e.timeline}`;
      const lsn = e.lsn === null ? "" : ` · ${e.lsn}`;
      return [e.member, `${e.role}${tl}${lsn}`];
    }
    case "promotion": {
      const fork = e.fork_lsn === null ? "" : ` forked at ${e.fork_lsn}`;
      return [e.member, `promoted to timeline ${e.timeline}${fork} — ${e.reason}`];
    }
    case "fork":
      return [
        e.member,
        `timeline ${e.timeline} forked off timeline ${e.parent} at ${e.fork_lsn} — ${e.reason}`,
      ];
    case "ha":
      return [e.member ?? "", e.text];
    case "repoint":
      return [e.to, e.text];
  }
}

const KIND_LABELS: Record<TimelineEvent["kind"], string> = {
  step: "harness steps",
  fault: "faults",
  role: "role changes",
  promotion: "promotions",
  fork: "timeline forks",
  ha: "HA manager",
  nemesis: "nemesis schedules",
  repoint: "entry point re-pointed",
};

function events(report: RunReport): string {
  const sorted = byTime(report.record.timeline);
  // The first event of each instant carries its id, so the explanation's evidence can link to it.
  const anchored = new Set<number>();
  const rows = sorted.map((e) => {
    const [member, text] = describe(e);
    const id = anchored.has(e.at_ns) ? "" : ` id="${eventAnchor(e.at_ns)}"`;
    anchored.add(e.at_ns);
    return `<tr class="${e.kind}"${id}><td class="num">${nsToS(e.at_ns).toFixed(3)}</td><td class="src">${esc(sourceOf(e))}</td><td><span class="kind ${e.kind}">${e.kind}</span></td><td>${esc(member)}</td><td>${esc(maskText(text))}</td></tr>`;
  });
  const counts = new Map<string, number>();
  for (const e of sorted) counts.set(e.kind, (counts.get(e.kind) ?? 0) + 1);
  const filters = [...counts].map(
    ([kind, count]) =>
      `<label><input type="checkbox" data-kind="${kind}" checked>${KIND_LABELS[kind as TimelineEvent["kind"]]} <span class="muted">${count}</span></label>`,
  );
  const body =
    rows.length > 0
      ? `<div class="filters">${filters.join("")}<input type="search" id="events-q" placeholder="Filter events…" aria-label="Filter events"></div>
<div class="scroll"><table class="ev" id="events-table"><thead><tr><th class="num">time s</th><th>source</th><th>kind</th><th>member</th><th>event</th></tr></thead><tbody>${rows.join("\n")}</tbody></table></div>`
      : `<p class="muted">No events recorded.</p>`;
  return `<section class="panel" id="events"><h2>Events</h2>${body}</section>`;
}

/** Nested settings as dotted rows grouped by their top-level key, so wide JSON never overflows. */
function flatten(value: unknown, prefix: string, out: [string, unknown][]): void {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0) out.push([prefix, {}]);
    for (const [k, v] of entries) flatten(v, prefix ? `${prefix}.${k}` : k, out);
    return;
  }
  out.push([prefix, value]);
}

/** "postgresql.parameters.wal_level": the path muted, the leaf plain, line breaks only after dots. */
function dottedKey(key: string): string {
  const dot = key.lastIndexOf(".");
  const path = dot < 0 ? "" : key.slice(0, dot + 1);
  const leaf = key.slice(dot + 1);
  const pathHtml = path
    .split(".")
    .filter((part) => part !== "")
    .map((part) => `${esc(part)}.<wbr>`)
    .join("");
  return `<code>${path ? `<span class="muted">${pathHtml}</span>` : ""}${esc(leaf)}</code>`;
}

function settingsTable(settings: Record<string, unknown>): string {
  const masked = maskSettings(settings);
  const entries = Object.entries(masked);
  if (entries.length === 0) return `<p class="muted">none recorded</p>`;
  const rows: string[] = [];
  for (const [key, value] of entries) {
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      rows.push(`<tr class="group"><td colspan="2"><code>${esc(key)}</code></td></tr>`);
      const flat: [string, unknown][] = [];
      flatten(value, "", flat);
      for (const [k, v] of flat) {
        rows.push(
          `<tr><td class="key">${dottedKey(k)}</td><td class="mono">${esc(formatValue(v))}</td></tr>`,
        );
      }
    } else {
      rows.push(`<tr><td><code>${esc(key)}</code></td><td class="mono">${esc(formatValue(value))}</td></tr>`);
    }
  }
  return `<table class="kv settings">${rows.join("")}</table>`;
}

function kvTable(entries: [string, unknown][]): string {
  if (entries.length === 0) return `<p class="muted">none recorded</p>`;
  const rows = entries.map(
    ([k, v]) => `<tr><td><code>${esc(k)}</code></td><td class="mono">${esc(formatValue(v))}</td></tr>`,
  );
  return `<table class="kv">${rows.join("")}</table>`;
}

function cluster(report: RunReport): string {
  const { record: r } = report;
  const members =
    r.members.length > 0
      ? `<table><thead><tr><th>member</th><th>kind</th><th>address</th></tr></thead><tbody>${r.members.map((m) => `<tr><td><code>${esc(m.name)}</code></td><td>${esc(m.kind)}</td><td class="mono">${esc(m.address)}</td></tr>`).join("")}</tbody></table>`
      : `<p class="muted">no members recorded</p>`;
  const facts = kvTable([
    ["topology", r.topology],
    ["backend", r.backend],
    ["stack", stackLabel(r.stack)],
    ["scenario", r.scenario],
    ["run id", r.run_id],
    ["started at", r.started_at],
    ["duration", formatSeconds(r.duration_s, 3)],
    ...planFacts(r),
  ]);
  const source =
    report.scenarioSource !== undefined
      ? `<details class="source"><summary>Scenario source <span class="muted">${formatCount(report.scenarioSource.split("\n").length)} lines</span></summary><pre class="source">${esc(maskText(report.scenarioSource))}</pre></details>`
      : `<p class="muted">Scenario source not recorded for this run.</p>`;
  return `<section class="panel" id="cluster"><h2>Cluster facts</h2><div class="cols">
<div><h3>Run</h3>${facts}<h3 style="margin-top:16px">Topology · ${esc(r.topology)}</h3>${members}<h3 style="margin-top:16px">Versions</h3>${kvTable(Object.entries(r.versions))}</div>
<div><h3>HA and workload settings used</h3>${settingsTable(r.settings)}</div>
</div><h3 style="margin-top:16px">Scenario</h3>${source}</section>`;
}

function logs(report: RunReport, list: NodeLog[] | undefined): string {
  if (!list || list.length === 0) {
    return `<section class="panel" id="logs"><h2>Node logs</h2><p class="muted">No node logs were copied for this run.</p></section>`;
  }
  const faults = byTime(report.record.timeline).filter((e) => e.kind === "fault");
  const window = list[0]?.window ?? null;
  const hint =
    window === null
      ? "No fault was injected: the last lines of each log."
      : `Lines from ${s3(window.from_ns)} s to ${s3(window.to_ns)} s (5 s before the first fault to 30 s after the last heal), in run time. Passwords are masked.`;
  const parts = list.map((log) => {
    const errors = log.lines.filter((l) => l.level === "error").length;
    const warns = log.lines.filter((l) => l.level === "warn").length;
    const marks = faults.map((e) => ({ at_ns: e.at_ns, e }));
    const out: string[] = [];
    let m = 0;
    for (const line of log.lines) {
      // A marker goes before the first line that may have come after it: with whole-second
      // stamps, a line stamped in the fault's second could be on either side, so it goes after.
      while (
        m < marks.length &&
        (marks[m]?.at_ns ?? Number.POSITIVE_INFINITY) < line.at_ns + line.resolution_ns
      ) {
        out.push(faultMark(marks[m]?.e));
        m++;
      }
      const coarse = line.resolution_ns >= 1e9;
      const t = Number.isFinite(line.at_ns)
        ? coarse
          ? `~${nsToS(line.at_ns).toFixed(1)}`
          : s3(line.at_ns)
        : "—";
      const title = coarse
        ? ` title="stamped to the second: between ${s3(line.at_ns)} and ${s3(line.at_ns + line.resolution_ns)} s"`
        : "";
      out.push(
        `<div class="ll${line.level ? ` ${line.level}` : ""}"><span class="lt"${title}>${t}</span><span class="lx">${esc(line.text)}</span></div>`,
      );
    }
    if (log.lines.length > 0) while (m < marks.length) out.push(faultMark(marks[m++]?.e));
    const omitted =
      log.omitted > 0
        ? `<p class="more" style="padding:0 12px">… ${formatCount(log.omitted)} more lines in the window</p>`
        : "";
    const body =
      log.lines.length > 0
        ? `<div class="log">${out.join("")}</div>${omitted}`
        : `<p class="muted" style="padding:0 12px">no lines in the window</p>`;
    const badges = `${errors > 0 ? ` <span class="errs">${errors} error${errors > 1 ? "s" : ""}</span>` : ""}${warns > 0 ? ` <span class="warns">${warns} warning${warns > 1 ? "s" : ""}</span>` : ""}`;
    return `<details class="node-log" data-member="${esc(log.member)}"><summary>${esc(log.member)}${log.part ? ` · ${esc(log.part)}` : ""}<span class="muted">${formatCount(log.lines.length)} of ${formatCount(log.total_lines)} lines · ${esc(log.file)}</span>${badges}</summary>${body}</details>`;
  });
  return `<section class="panel" id="logs"><h2>Node logs around the fault</h2><p class="hint">${hint}</p>${parts.join("\n")}</section>`;
}

function faultMark(e: TimelineEvent | undefined): string {
  if (!e || e.kind !== "fault") return "";
  return `<div class="ll mark" style="--fc:${faultColor(e.fault)}"><span class="lt">${s3(e.at_ns)}</span><span class="lx">pgchaos: ${esc(e.phase)} ${esc(e.fault)} on ${esc(e.target)} (${esc(e.members.join(", "))})</span></div>`;
}

/** The whole report as one self-contained page: inline CSS, SVG and script, nothing fetched. */
export function renderHtml(report: RunReport, extras: HtmlExtras = {}): string {
  const { record: r, verification: v } = report;
  const title = `pgchaos · ${r.scenario} · ${r.topology} · ${v.verdict.toUpperCase()}`;
  const body = `${banner(report)}
${headline(report)}${divergencePanel(report)}
<div class="row2"><div>${expectations(report)}${problems(report)}</div>${moments(report)}</div>
${figures(report)}
${readsSection(report)}
${timeline(report)}
${workload(report)}
${writes(report)}
${events(report)}
${cluster(report)}
${logs(report, extras.logs)}
<footer>pgchaos report · ${esc(r.run_id)}</footer>`;
  return page(title, nav(report), body);
}

export const htmlReporter: Reporter = {
  name: "html",
  async write(report, dir) {
    await mkdir(dir, { recursive: true });
    const logList = await readNodeLogs(join(dir, "logs"), report.record);
    const path = join(dir, "report.html");
    await writeFile(path, renderHtml(report, { logs: logList }));
    return [path];
  },
};
