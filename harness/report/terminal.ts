import { FIGURES, type ScalarFigure, formatFigure } from "../verify/catalogue.ts";
import type { Figures } from "../verify/figures.ts";
import { anomalyCounts, formatSeconds, runLabel, stackLabel } from "./format.ts";
import { allProblems } from "./json.ts";
import type { RunReport } from "./reporter.ts";

export interface TerminalOptions {
  /** ANSI colours; the caller decides (see `useColor`) so this module stays pure. */
  color: boolean;
}

const ANSI = { bold: 1, red: 31, green: 32, yellow: 33, dim: 2 } as const;

/** Colour when writing to a TTY, unless NO_COLOR is set (https://no-color.org convention). */
export function useColor(stream: { isTTY?: boolean }, env: Record<string, string | undefined>): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR && env.FORCE_COLOR !== "0") return true;
  return stream.isTTY === true;
}

/** "max write gap 5.60 s": a figure inside a line, in the catalogue's words. */
function said<K extends ScalarFigure>(key: K, f: Figures): string {
  return `${FIGURES[key].short} ${formatFigure(key, f)}`;
}

function pad(s: string, width: number): string {
  return s + " ".repeat(Math.max(0, width - s.length));
}

/** A compact plain-text verdict: header, one line per expectation, figures, problems. */
export function formatVerdict(report: RunReport, options: TerminalOptions = { color: false }): string {
  const paint = (codes: number[], s: string) => (options.color ? `\x1b[${codes.join(";")}m${s}\x1b[0m` : s);
  const { record: r, verification: v } = report;
  const f = v.figures;
  const pass = v.verdict === "pass";
  const lines: string[] = [];

  const verdict = paint([ANSI.bold, pass ? ANSI.green : ANSI.red], pass ? "PASS" : "FAIL");
  lines.push(
    `${verdict}  ${paint([ANSI.bold], r.scenario)} · ${r.topology} · ${r.backend} · ${stackLabel(r.stack)}`,
  );
  const beside = r.concurrency > 1 ? ` · ${r.concurrency} runs at once` : "";
  lines.push(
    `  ${paint([ANSI.dim], `run ${r.run_id} · ${formatSeconds(r.duration_s, 1)} · run seed ${r.seed}${beside}`)}`,
  );

  if (v.expectations.length === 0) {
    lines.push(`  ${paint([ANSI.dim], "(no expectations)")}`);
  }
  // Widths cap at 32 so one long value does not push every other row off screen.
  const keyW = Math.min(32, Math.max(0, ...v.expectations.map((e) => e.key.length)));
  const expW = Math.min(32, Math.max(0, ...v.expectations.map((e) => e.expected.length)));
  for (const e of v.expectations) {
    const mark = e.pass ? paint([ANSI.green], "✔") : paint([ANSI.red], "✘");
    const actual = e.pass ? e.actual : paint([ANSI.red], e.actual);
    lines.push(`  ${mark} ${pad(e.key, keyW)}  ${pad(e.expected, expW)}  ${actual}`.trimEnd());
  }

  const bad = (cond: boolean, s: string) => (cond ? paint([ANSI.red], s) : s);
  // Counts read "240 acknowledged", the rest "label value".
  const counted = (key: "acknowledged_writes" | "lost_writes" | "unknown_writes" | "failed_writes") =>
    `${formatFigure(key, f)} ${FIGURES[key].short}`;
  const splitBrain = f.split_brain
    ? `YES (window ${formatFigure("split_brain_window_s", f)})`
    : FIGURES.split_brain.format(false);
  // The bound the run's own settings imply, beside the RTO it is read against; yellow when exceeded.
  const bound = v.rto_bound;
  const over = bound !== null && f.rto_s !== null && f.rto_s > bound.bound_s;
  const bounded =
    bound === null
      ? ""
      : ` ${paint(over ? [ANSI.yellow] : [ANSI.dim], `(bound ${Number(bound.bound_s.toFixed(3))} s)`)}`;
  lines.push(
    `  ${said("rto_s", f)}${bounded} · ${said("max_write_gap_s", f)} · ${said("promotions", f)} · ${bad(
      f.split_brain,
      `${FIGURES.split_brain.short} ${splitBrain}`,
    )} · ${bad(f.dual_primary_s > 0, said("dual_primary_s", f))}`,
  );
  lines.push(
    `  writes ${counted("acknowledged_writes")} · ${bad(f.lost_writes > 0, counted("lost_writes"))} · ${counted("unknown_writes")} · ${counted("failed_writes")} · ${bad(f.wal_loss_bytes > 0, said("wal_loss_bytes", f))}`,
  );

  if (f.reads > 0) {
    const worst = f.stale_reads === 0 ? "" : ` (max ${formatFigure("max_staleness_s", f)})`;
    const replica =
      f.replica_staleness_s === null
        ? ""
        : ` · ${said("replica_staleness_s", f)}${f.replica_lag_bytes === null ? "" : `, ${formatFigure("replica_lag_bytes", f)}`}`;
    lines.push(
      `  reads ${formatFigure("reads", f)} · ${bad(f.stale_reads > 0, `${said("stale_reads", f)}${worst}`)} · ${bad(f.lost_data_reads > 0, said("lost_data_reads", f))} · ${bad(f.non_monotonic_reads > 0, said("non_monotonic_reads", f))}${replica}`,
    );
  }
  const names = v.name_service;
  if (names !== null) {
    lines.push(
      `  name ${names.name} · ${bad(f.repoint_delay_s === null && names.repointings.length > 0, said("repoint_delay_s", f))} · ${bad(f.stale_name_writes > 0, said("stale_name_writes", f))} · ${said("stale_name_refused_writes", f)}`,
    );
  }
  const txns = v.transactions;
  if (txns !== null) {
    const kinds = anomalyCounts(txns);
    lines.push(
      `  ${said("transactions", f)} committed · ${bad(kinds.length > 0, kinds.length > 0 ? kinds.join(", ") : "no anomaly")}`,
    );
  }

  const problems = allProblems(report);
  if (problems.length > 0) {
    lines.push(`  ${paint([ANSI.yellow, ANSI.bold], "problems:")}`);
    for (const p of problems) lines.push(`    - ${paint([ANSI.yellow], p)}`);
  }
  return lines.join("\n");
}

/**
 * One aligned row per run — scenario, topology and the figures side by side, so the same fault on
 * several topologies compares at a glance — then a last line kept free of colour because CI greps it.
 */
export function formatSummary(reports: RunReport[], options: TerminalOptions = { color: false }): string {
  const paint = (code: number, s: string) => (options.color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const seconds = (value: number | null) => (value === null ? "none" : `${value.toFixed(2)}s`);
  // Repeats and sweep points get a column; a plain one-run-per-topology invocation does not.
  const labelled = reports.some((r) => !["", "r1"].includes(runLabel(r.record)));
  const rows = reports.map(({ record: r, verification: v }) => [
    v.verdict === "pass" ? "PASS" : "FAIL",
    r.scenario,
    r.topology,
    ...(labelled ? [runLabel(r)] : []),
    `${FIGURES.rto_s.short} ${seconds(v.figures.rto_s)}`,
    `${FIGURES.lost_writes.short} ${v.figures.lost_writes}`,
    `${FIGURES.unknown_writes.short} ${v.figures.unknown_writes}`,
    `${FIGURES.promotions.short} ${v.figures.promotions}`,
    `${FIGURES.split_brain.short} ${v.figures.split_brain ? `yes ${seconds(v.figures.split_brain_window_s)}` : "no"}`,
    r.run_id,
  ]);
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? "").length))) ?? [];
  const lines = rows.map((row) => {
    const [verdict = "", ...rest] = row.map((cell, c) => cell.padEnd(widths[c] ?? 0));
    const mark = verdict.startsWith("PASS") ? paint(ANSI.green, verdict) : paint(ANSI.red, verdict);
    return `${mark}  ${rest.join("  ").trimEnd()}`;
  });
  const passed = reports.filter((r) => r.verification.verdict === "pass").length;
  lines.push(`${passed} passed, ${reports.length - passed} failed`);
  return lines.join("\n");
}
