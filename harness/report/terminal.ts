import type { Figures, Verification } from "../model/figures.ts";
import { FIGURES, type ScalarFigure, formatFigure } from "../verify/catalogue.ts";
import { notZero } from "./cards.ts";
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

/** "max write gap 5.60 s": a figure inside a line, in the catalogue's words; an unknown says why. */
function said<K extends ScalarFigure>(key: K, f: Figures, unknown: Verification["unknown"] = {}): string {
  const why = f[key] === null ? unknown[key] : undefined;
  return `${FIGURES[key].short} ${formatFigure(key, f)}${why ? ` (unknown: ${why})` : ""}`;
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
  const counted = (key: "acknowledged_writes" | "lost_writes" | "unknown_writes" | "failed_writes") => {
    const why = f[key] === null ? v.unknown[key] : undefined;
    return `${formatFigure(key, f)} ${FIGURES[key].short}${why ? ` (unknown: ${why})` : ""}`;
  };
  const splitBrain = f.split_brain
    ? `YES (window ${formatFigure("split_brain_window_s", f)})`
    : FIGURES.split_brain.format(false);
  // Each path's bound beside that path's RTO (the HA bound beside the direct path, a name's
  // bound beside the name's); yellow when exceeded.
  const bounded = (path: (typeof v.paths)[number]) => {
    if (path.bound_s === null) return "";
    const over = path.rto_s !== null && path.rto_s > path.bound_s;
    return ` ${paint(over ? [ANSI.yellow] : [ANSI.dim], `(bound ${Number(path.bound_s.toFixed(3))} s)`)}`;
  };
  // Results written before paths were stored: the HA bound only where there was one path to hold to it.
  const single =
    v.paths[0] ??
    (v.rto_bound !== null && report.record.entrypoints.length <= 1
      ? { path: "", rto_s: f.rto_s, bound_s: v.rto_bound.bound_s }
      : undefined);
  const rtoText =
    v.paths.length <= 1
      ? `${said("rto_s", f)}${single ? bounded(single) : ""}`
      : `${FIGURES.rto_s.short} ${v.paths.map((p) => `${p.path} ${FIGURES.rto_s.format(p.rto_s)}${bounded(p)}`).join(", ")}`;
  if (v.explanation) lines.push(`  ${paint([ANSI.red, ANSI.bold], "why:")} ${v.explanation.text}`);
  lines.push(
    `  ${rtoText} · ${said("max_write_gap_s", f)} · ${said("promotions", f)} · ${bad(
      f.split_brain,
      `${FIGURES.split_brain.short} ${splitBrain}`,
    )} · ${bad(f.dual_primary_s > 0, said("dual_primary_s", f))}`,
  );
  lines.push(
    `  writes ${counted("acknowledged_writes")} · ${bad(notZero(f.lost_writes), counted("lost_writes"))} · ${counted("unknown_writes")} · ${counted("failed_writes")} · ${bad(notZero(f.wal_loss_bytes), said("wal_loss_bytes", f, v.unknown))}`,
  );

  if (v.divergence) {
    const sides = v.divergence.sides.map(
      (side) =>
        `${side.member}${side.ha_primary ? " (HA primary)" : ""} lacks ${side.missing_ids === null ? "— (ledger unread)" : `${formatFigure("acknowledged_writes", { acknowledged_writes: side.missing_ids.length })} acknowledged writes`}`,
    );
    lines.push(
      `  ${paint([ANSI.red], `diverged: ${v.divergence.members.join(", ")}`)} · ${sides.join(" · ")}`,
    );
  }
  if (f.reads > 0) {
    const worst = f.stale_reads === 0 ? "" : ` (max ${formatFigure("max_staleness_s", f)})`;
    const replica =
      f.replica_staleness_s === null
        ? ""
        : ` · ${said("replica_staleness_s", f)}${f.replica_lag_bytes === null ? "" : `, ${formatFigure("replica_lag_bytes", f)}`}`;
    lines.push(
      `  reads ${formatFigure("reads", f)} · ${bad(notZero(f.stale_reads), `${said("stale_reads", f, v.unknown)}${worst}`)} · ${bad(notZero(f.lost_data_reads), said("lost_data_reads", f, v.unknown))} · ${bad(notZero(f.non_monotonic_reads), said("non_monotonic_reads", f, v.unknown))}${replica}`,
    );
  }
  const names = v.name_service;
  if (names !== null) {
    lines.push(
      `  name ${names.name} · ${bad(f.repoint_delay_s === null && names.repointings.length > 0, said("repoint_delay_s", f))} · ${bad(notZero(f.stale_name_writes), said("stale_name_writes", f, v.unknown))} · ${said("stale_name_refused_writes", f, v.unknown)}`,
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
    // An unknown stays a dash with its reason, even in the one-line summary.
    `${FIGURES.lost_writes.short} ${v.figures.lost_writes ?? `— (unknown: ${v.unknown.lost_writes ?? "not measured"})`}`,
    `${FIGURES.unknown_writes.short} ${v.figures.unknown_writes}`,
    `${FIGURES.promotions.short} ${v.figures.promotions}`,
    `${FIGURES.split_brain.short} ${v.figures.split_brain ? `yes ${seconds(v.figures.split_brain_window_s)}` : "no"}`,
    `${FIGURES.diverged.short} ${v.divergence ? v.divergence.members.join(", ") : FIGURES.diverged.format(v.figures.diverged)}`,
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
