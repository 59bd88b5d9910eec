/**
 * The certification summary (`pgchaos certify`): certification.json and certification.html in
 * --out — the suite and its thresholds, the versions and settings that ran, the full matrix over
 * repeats, every failed run linked, and a content hash of every result.json, so a signed summary
 * can be checked against the results it vouches for.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ExpectationResult } from "../model/figures.ts";
import type { SuiteInfo } from "../model/plan.ts";
import type { GroupStatistics } from "../verify/aggregate.ts";
import { FIGURES } from "../verify/catalogue.ts";
import { escapeHtml as esc } from "./escape.ts";
import { page } from "./html.ts";
import { allProblems } from "./json.ts";
import { relPath } from "./junit.ts";
import type { GroupSummary, PlanSummary } from "./reporter.ts";
import type { PlanReporter } from "./reporter.ts";
import { groupsHtml, pointLabels, spreadText, tallyText, unknownIn } from "./statistics.ts";
import { sweepHtml } from "./sweep.ts";

export interface CertificationJson {
  suite: SuiteInfo;
  certified: boolean;
  generated_at: string;
  plan: { id: string; seed: number; repeat: number; runs: number; missing: string[] };
  /** sha256 over every run's result.json in plan order ("<key>\n<file>\n" each). */
  content_hash: string;
  /** Component versions as the runs reported them, per topology and stack. */
  versions: { topology: string; backend: string; stack: string; versions: Record<string, string> }[];
  groups: {
    group: string;
    scenario: string;
    topology: string;
    point: Record<string, string | number | boolean>;
    certified: boolean;
    settings: Record<string, unknown>;
    statistics: GroupStatistics;
    thresholds: ExpectationResult[];
    runs: { key: string; verdict: "pass" | "fail"; report: string }[];
  }[];
  failed_runs: { key: string; seed: number; report: string; reasons: string[]; replay: string }[];
}

export function toCertificationJson(
  summary: PlanSummary,
  out: string,
  generatedAt: string,
): CertificationJson {
  const suite = summary.plan.suite;
  if (!suite) throw new Error("a certification summary needs the plan of a suite");
  const hash = createHash("sha256");
  for (const result of summary.results) {
    hash.update(`${result.run.key}\n`);
    hash.update(readFileSync(join(result.dir, "result.json")));
    hash.update("\n");
  }
  const versions = new Map<string, CertificationJson["versions"][number]>();
  for (const { report } of summary.results) {
    const r = report.record;
    const key = `${r.topology}/${r.backend}/${r.stack.name}`;
    if (!versions.has(key) && Object.keys(r.versions).length > 0) {
      versions.set(key, {
        topology: r.topology,
        backend: r.backend,
        stack: r.stack.name,
        versions: r.versions,
      });
    }
  }
  const link = (dir: string) => `${relPath(out, dir)}/report.html`;
  return {
    suite,
    certified: summary.verdict === "pass",
    generated_at: generatedAt,
    plan: {
      id: summary.plan.plan_id,
      seed: summary.plan.seed,
      repeat: summary.plan.repeat,
      runs: summary.plan.runs.length,
      missing: summary.missing.map((run) => run.key),
    },
    content_hash: `sha256:${hash.digest("hex")}`,
    versions: [...versions.values()],
    groups: summary.groups.map((g) => ({
      group: g.group,
      scenario: g.scenario,
      topology: g.topology,
      point: g.point,
      certified: g.verdict === "pass",
      settings: g.results[0]?.report.record.settings ?? {},
      statistics: g.statistics,
      thresholds: g.expectations,
      runs: g.results.map((r) => ({
        key: r.run.key,
        verdict: r.report.verification.verdict,
        report: link(r.dir),
      })),
    })),
    failed_runs: summary.results
      .filter((r) => r.report.verification.verdict === "fail")
      .map((r) => ({
        key: r.run.key,
        seed: r.run.seed,
        report: link(r.dir),
        reasons: [
          ...r.report.verification.expectations
            .filter((e) => !e.pass)
            .map((e) => `${e.key}: expected ${e.expected}, got ${e.actual}`),
          ...allProblems(r.report),
        ],
        replay: `pgchaos certify ${suite.file} --seed ${summary.plan.seed} --only ${r.run.key}`,
      })),
  };
}

function matrixCell(group: GroupSummary | undefined): string {
  if (!group) return `<td class="muted">—</td>`;
  const s = group.statistics;
  const failed = group.expectations.filter((e) => !e.pass).map((e) => `${e.key} ${e.actual}`);
  return `<td class="${group.verdict}" title="${esc(failed.join("; ") || "every threshold held")}"><span class="pill ${group.verdict}">${group.verdict === "pass" ? "HELD" : "BROKEN"}</span><br><small>RTO ${esc(s.runs === 1 ? FIGURES.rto_s.format(s.spreads.rto.max) : spreadText(s.spreads.rto).replace(/ · /g, " / "))}</small><br><small>${esc(tallyText("lost writes", s.tallies.lost_writes.hit, s.runs, unknownIn(group, "lost_writes")))}</small></td>`;
}

export function renderCertification(json: CertificationJson, summary: PlanSummary, out: string): string {
  const verdict = json.certified ? "pass" : "fail";
  const title = json.certified ? "CERTIFIED" : "NOT CERTIFIED";
  // Rows: a scenario at a sweep point; columns: topologies.
  const rowKey = (g: GroupSummary) => [g.scenario, ...pointLabels(g.point)].join(" · ");
  const scenarios = [...new Set(summary.groups.map(rowKey))];
  const topologies = [...new Set(summary.groups.map((g) => g.topology))];
  const rows = scenarios
    .map(
      (row) =>
        `<tr><th scope="row">${esc(row)}</th>${topologies
          .map((t) => matrixCell(summary.groups.find((g) => rowKey(g) === row && g.topology === t)))
          .join("")}</tr>`,
    )
    .join("");
  const thresholds = Object.entries(json.suite.thresholds)
    .map(([k, v]) => `<li><code>${esc(k)}</code> ${esc(String(v))}</li>`)
    .join("");
  const versions = json.versions
    .map(
      (v) =>
        `<tr><td>${esc(v.topology)}</td><td>${esc(v.backend)} · ${esc(v.stack)}</td><td>${esc(
          Object.entries(v.versions)
            .map(([c, x]) => `${c} ${x}`)
            .join(", "),
        )}</td></tr>`,
    )
    .join("");
  const failed = json.failed_runs
    .map(
      (f) =>
        `<li><a href="${esc(f.report)}">${esc(f.key)}</a> <small>seed ${f.seed}</small><ul>${f.reasons
          .map((r) => `<li>${esc(r)}</li>`)
          .join("")}</ul><code>${esc(f.replay)}</code></li>`,
    )
    .join("");
  const sweep = sweepHtml(summary.groups);
  const nav = `<nav class="topnav"><div class="in"><span class="brand">pgchaos</span><span class="crumb"><span class="pill ${verdict}">${title}</span> ${esc(json.suite.name)}</span><span class="links"><a href="#matrix">Matrix</a><a href="#repeats">Over repeats</a><a href="#failed">Failed runs</a><a href="index.html">Index</a></span></div></nav>`;
  const body = `<header class="banner ${verdict}"><div class="verdict">${title}</div><div class="what"><h1>${esc(json.suite.name)}</h1>${json.suite.description ? `<p class="desc">${esc(json.suite.description)}</p>` : ""}<div class="meta"><span>runs <b>${summary.results.length} of ${json.plan.runs}</b></span><span>repeat <b>${json.plan.repeat}</b></span><span>seed <b>${json.plan.seed}</b></span><span>plan <b>${esc(json.plan.id)}</b></span><span>generated <b>${esc(json.generated_at)}</b></span></div></div></header>
<section class="panel"><h2>Thresholds</h2><p class="hint">Held by every scenario × topology over its repeats.</p><ul>${thresholds}</ul>
<p>Content hash of every result.json: <code>${esc(json.content_hash)}</code></p>
${json.plan.missing.length > 0 ? `<p class="fail">Not run: ${esc(json.plan.missing.join(", "))}</p>` : ""}</section>
<section class="panel" id="matrix"><h2>Matrix</h2><table class="matrix"><thead><tr><th></th>${topologies.map((t) => `<th>${esc(t)}</th>`).join("")}</tr></thead><tbody>${rows}</tbody></table></section>
<section class="panel"><h2>Versions</h2><table><thead><tr><th>topology</th><th>where</th><th>components</th></tr></thead><tbody>${versions}</tbody></table></section>
${sweep ? `<section class="panel" id="sweep">${sweep}</section>` : ""}
<section class="panel" id="repeats">${groupsHtml(summary.groups, (dir) => relPath(out, dir))}</section>
<section class="panel" id="failed"><h2>Failed runs</h2>${failed ? `<ul>${failed}</ul>` : `<p class="muted">none</p>`}</section>
<footer>pgchaos certification · certification.json, index.html, junit.xml and summary.json beside this file</footer>`;
  return page(`pgchaos · ${json.suite.name} · ${title}`, nav, body);
}

export function certificationReporter(out: string, print: (line: string) => void): PlanReporter {
  return {
    name: "certification",
    async onPlanEnd(summary) {
      const json = toCertificationJson(summary, out, new Date().toISOString());
      const jsonPath = join(out, "certification.json");
      const htmlPath = join(out, "certification.html");
      await writeFile(jsonPath, `${JSON.stringify(json, null, 2)}\n`);
      await writeFile(htmlPath, renderCertification(json, summary, out));
      print(
        `\n${json.certified ? "CERTIFIED" : "NOT CERTIFIED"}  ${json.suite.name}: ${summary.groups.filter((g) => g.verdict === "pass").length} of ${summary.groups.length} scenario × topology held every threshold · ${json.content_hash.slice(0, 23)}…`,
      );
      print(`certification: ${htmlPath}`);
    },
  };
}
