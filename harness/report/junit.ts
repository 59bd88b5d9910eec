/**
 * JUnit XML for CI systems (GitHub, GitLab, Jenkins, Azure all read this shape): one testcase per
 * scenario × topology, a failure carrying the broken expectations and the problems.
 */
import { relative } from "node:path";
import { FIGURES, formatFigure } from "../verify/catalogue.ts";
import { allProblems } from "./json.ts";
import type { RunReport } from "./reporter.ts";

/** The figures each testcase's output names, in the catalogue's words. */
const JUNIT_FIGURES = [
  "rto_s",
  "max_write_gap_s",
  "lost_writes",
  "unknown_writes",
  "acknowledged_writes",
  "wal_loss_bytes",
  "promotions",
  "split_brain",
  "diverged",
] as const;

/** A run of this invocation and the directory its files were written to. */
export interface InvocationRun {
  report: RunReport;
  dir: string;
}

/**
 * Drops what XML 1.0 forbids even escaped (control characters other than tab and line breaks,
 * lone surrogates, U+FFFE/U+FFFF): one stray byte in an error text must not make the whole
 * file unreadable to the CI.
 */
function xmlChars(text: string): string {
  let out = "";
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    const control = c < 0x20 && c !== 0x9 && c !== 0xa && c !== 0xd;
    if (control || (c >= 0xd800 && c <= 0xdfff) || c === 0xfffe || c === 0xffff) continue;
    out += ch;
  }
  return out;
}

export function xmlEscape(text: string): string {
  return xmlChars(text)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

/** Attribute values keep their line breaks as character references. */
function attr(text: string): string {
  return xmlEscape(text).replace(/\r?\n/g, "&#10;");
}

function seconds(s: number): string {
  return Number.isFinite(s) ? s.toFixed(3) : "0";
}

/** Paths in reports are relative to the output directory and use "/", whatever the OS. */
export function relPath(outDir: string, path: string): string {
  return relative(outDir, path).split("\\").join("/");
}

/** What failed, one item per line: broken expectations first, then problems. */
export function failureLines(report: RunReport): string[] {
  const lines = report.verification.expectations
    .filter((e) => !e.pass)
    .map((e) => `${e.key}: expected ${e.expected}, actual ${e.actual}`);
  for (const p of allProblems(report)) lines.push(`problem: ${p}`);
  // A fail verdict always has a reason; say so if the data somehow carries none.
  if (lines.length === 0 && report.verification.verdict === "fail") lines.push("verdict fail");
  return lines;
}

export function renderJunit(runs: InvocationRun[], outDir: string): string {
  const failures = runs.filter((r) => r.report.verification.verdict === "fail").length;
  const total = runs.reduce((sum, r) => sum + r.report.record.duration_s, 0);
  const timestamp = runs[0]?.report.record.started_at;
  const seen = new Map<string, number>();
  const cases = runs.map(({ report, dir }) => {
    const { record: r, verification: v } = report;
    const key = `${r.scenario}\u0000${r.topology}`;
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    // Two runs of one scenario × topology need distinct names, or CI merges them into one.
    const name = n > 1 ? `${r.topology} (${r.run_id})` : r.topology;
    const f = v.figures;
    const out = [
      `report: ${relPath(outDir, `${dir}/report.html`)}`,
      // An unmeasured figure is a dash with its reason, never a zero.
      JUNIT_FIGURES.map((key) => {
        const why = f[key] === null ? v.unknown[key] : undefined;
        return `${FIGURES[key].short} ${formatFigure(key, f)}${why ? ` (unknown: ${why})` : ""}`;
      }).join(" · "),
      ...(v.explanation ? [`why: ${v.explanation.text}`] : []),
    ].join("\n");
    const lines = failureLines(report);
    const failure =
      v.verdict === "fail"
        ? `\n      <failure message="${attr(lines.join("; "))}" type="expectation">${xmlEscape(lines.join("\n"))}</failure>`
        : "";
    return `    <testcase classname="${attr(r.scenario)}" name="${attr(name)}" time="${seconds(r.duration_s)}">${failure}
      <system-out>${xmlEscape(out)}</system-out>
    </testcase>`;
  });
  const suiteAttrs = `tests="${runs.length}" failures="${failures}" errors="0" skipped="0" time="${seconds(total)}"`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="pgchaos" ${suiteAttrs}>
  <testsuite name="pgchaos" ${suiteAttrs}${timestamp ? ` timestamp="${attr(timestamp)}"` : ""}>
${cases.join("\n")}
  </testsuite>
</testsuites>
`;
}
