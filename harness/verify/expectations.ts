/** A scenario's `expect:` block: parsing each promise and checking it against the figures. */

import type { RtoBound } from "../model/figures.ts";
import type { ExpectationResult, Figures, PathRto, ScalarFigureKey } from "../model/figures.ts";
import { FIGURES } from "./catalogue.ts";

export type ComparisonOp = "<" | "<=" | "=" | ">=" | ">" | "!=";

type NumericFigure = {
  [K in keyof Figures]: Figures[K] extends number | null ? K : never;
}[keyof Figures];
type BooleanFigure = { [K in keyof Figures]: Figures[K] extends boolean ? K : never }[keyof Figures];

type ExpectationSpec =
  | { figure: NumericFigure; kind: "duration" | "count"; description: string }
  | { figure: BooleanFigure; kind: "boolean"; description: string };

/**
 * Every key a scenario may put under `expect:`; the scenario schema validates and documents from
 * this. Descriptions are the catalogue's help, so a promise and its figure read the same.
 */
export const EXPECTATIONS = {
  rto: { figure: "rto_s", kind: "duration", description: FIGURES.rto_s.help },
  max_write_gap: { figure: "max_write_gap_s", kind: "duration", description: FIGURES.max_write_gap_s.help },
  lost_writes: { figure: "lost_writes", kind: "count", description: FIGURES.lost_writes.help },
  unknown_writes: { figure: "unknown_writes", kind: "count", description: FIGURES.unknown_writes.help },
  acknowledged_writes: {
    figure: "acknowledged_writes",
    kind: "count",
    description: FIGURES.acknowledged_writes.help,
  },
  failed_writes: { figure: "failed_writes", kind: "count", description: FIGURES.failed_writes.help },
  wal_loss_bytes: { figure: "wal_loss_bytes", kind: "count", description: FIGURES.wal_loss_bytes.help },
  promotions: { figure: "promotions", kind: "count", description: FIGURES.promotions.help },
  split_brain: { figure: "split_brain", kind: "boolean", description: FIGURES.split_brain.help },
  diverged: { figure: "diverged", kind: "boolean", description: FIGURES.diverged.help },
  split_brain_window: {
    figure: "split_brain_window_s",
    kind: "duration",
    description: FIGURES.split_brain_window_s.help,
  },
  dual_primary: { figure: "dual_primary_s", kind: "duration", description: FIGURES.dual_primary_s.help },
  reads: { figure: "reads", kind: "count", description: FIGURES.reads.help },
  stale_reads: { figure: "stale_reads", kind: "count", description: FIGURES.stale_reads.help },
  max_staleness: { figure: "max_staleness_s", kind: "duration", description: FIGURES.max_staleness_s.help },
  lost_data_reads: { figure: "lost_data_reads", kind: "count", description: FIGURES.lost_data_reads.help },
  non_monotonic_reads: {
    figure: "non_monotonic_reads",
    kind: "count",
    description: FIGURES.non_monotonic_reads.help,
  },
  replica_staleness: {
    figure: "replica_staleness_s",
    kind: "duration",
    description: FIGURES.replica_staleness_s.help,
  },
  replica_lag_bytes: {
    figure: "replica_lag_bytes",
    kind: "count",
    description: FIGURES.replica_lag_bytes.help,
  },
  txn_anomalies: { figure: "txn_anomalies", kind: "count", description: FIGURES.txn_anomalies.help },
  write_blocked: { figure: "write_blocked_s", kind: "duration", description: FIGURES.write_blocked_s.help },
  repoint_delay: { figure: "repoint_delay_s", kind: "duration", description: FIGURES.repoint_delay_s.help },
  stale_name_writes: {
    figure: "stale_name_writes",
    kind: "count",
    description: FIGURES.stale_name_writes.help,
  },
  old_primary_rejoin: {
    figure: "old_primary_rejoin_s",
    kind: "duration",
    description: FIGURES.old_primary_rejoin_s.help,
  },
} as const satisfies Record<string, ExpectationSpec>;

export type ExpectationKey = keyof typeof EXPECTATIONS;

export const EXPECTATION_KEYS = Object.keys(EXPECTATIONS) as ExpectationKey[];

export type Expectation =
  | { key: ExpectationKey; figure: NumericFigure; kind: "duration"; op: ComparisonOp; seconds: number }
  | { key: ExpectationKey; figure: NumericFigure; kind: "count"; op: ComparisonOp; count: number }
  | { key: ExpectationKey; figure: BooleanFigure; kind: "boolean"; value: boolean }
  | { key: "rto"; figure: "rto_s"; kind: "within-bound" };

/** `rto: within-bound`: the RTO may not exceed the bound the run's HA settings imply (bound.ts). */
export const WITHIN_BOUND = "within-bound";

/** What some promises are measured against besides the figures. */
export interface ExpectationContext {
  rto_bound: RtoBound | null;
  /** Why a null figure was not measured: its expectation fails with that reason. */
  unknown?: Partial<Record<ScalarFigureKey, string>>;
  /** Each path's RTO and its own bound: `within-bound` holds each path to its own. */
  paths?: PathRto[];
}

const COMPARISON = /^\s*(<=|>=|==|!=|<|>|=)?\s*(.*?)\s*$/;
const DURATION = /^(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m)?$/;
const COUNT = /^\d+$/;

function isExpectationKey(key: string): key is ExpectationKey {
  return Object.hasOwn(EXPECTATIONS, key);
}

/** "<= 3" → { op: "<=", operand: "3" }; no operator means "=", and "==" is written "=". */
export function splitComparison(text: string): { op: ComparisonOp; operand: string } {
  const match = COMPARISON.exec(text);
  const written = match?.[1] ?? "=";
  return { op: written === "==" ? "=" : (written as ComparisonOp), operand: match?.[2] ?? "" };
}

export function parseDurationSeconds(operand: string): number | null {
  const match = DURATION.exec(operand);
  const amount = match?.[1];
  if (amount === undefined) return null;
  switch (match?.[2]) {
    case "ms":
      // Divide rather than multiply by 0.001, so "100ms" is exactly the double 0.1.
      return Number(amount) / 1000;
    case "m":
      return Number(amount) * 60;
    default:
      return Number(amount);
  }
}

function parseBoolean(
  key: ExpectationKey,
  figure: BooleanFigure,
  raw: string | number | boolean,
): Expectation {
  if (typeof raw === "boolean") return { key, figure, kind: "boolean", value: raw };
  if (typeof raw === "string") {
    const { op, operand } = splitComparison(raw);
    if ((op === "=" || op === "!=") && (operand === "true" || operand === "false")) {
      // "!= true" becomes "false": one normal form per promise.
      return { key, figure, kind: "boolean", value: (operand === "true") === (op === "=") };
    }
  }
  throw new Error(`expect.${key}: ${JSON.stringify(raw)} is not a boolean; write true or false`);
}

function parseDuration(
  key: ExpectationKey,
  figure: NumericFigure,
  raw: string | number | boolean,
): Expectation {
  const { op, operand } = typeof raw === "string" ? splitComparison(raw) : { op: "=" as const, operand: "" };
  const seconds =
    typeof raw === "number" ? raw : typeof raw === "string" ? parseDurationSeconds(operand) : null;
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) {
    const bound = key === "rto" ? `, or "${WITHIN_BOUND}" for the bound the HA settings imply` : "";
    throw new Error(
      `expect.${key}: ${JSON.stringify(raw)} is not a duration comparison; write e.g. "< 30s", "<= 1.5s", "< 500ms", "< 2m" or a number of seconds${bound}`,
    );
  }
  return { key, figure, kind: "duration", op, seconds };
}

function parseCount(key: ExpectationKey, figure: NumericFigure, raw: string | number | boolean): Expectation {
  const { op, operand } = typeof raw === "string" ? splitComparison(raw) : { op: "=" as const, operand: "" };
  const count =
    typeof raw === "number" ? raw : typeof raw === "string" && COUNT.test(operand) ? Number(operand) : null;
  if (count === null || !Number.isSafeInteger(count) || count < 0) {
    throw new Error(
      `expect.${key}: ${JSON.stringify(raw)} is not a count comparison; write e.g. 0, "= 0" or "<= 3"`,
    );
  }
  return { key, figure, kind: "count", op, count };
}

/**
 * raw: a number (means "= n"; seconds for durations), a boolean (split_brain only), or a string
 * "<op> <value>" with op one of < <= = == >= > != (none means =). Throws a one-line message
 * naming the key and the accepted forms.
 */
export function parseExpectation(key: string, raw: string | number | boolean): Expectation {
  if (!isExpectationKey(key)) {
    throw new Error(`expect.${key} is not a known expectation; known keys: ${EXPECTATION_KEYS.join(", ")}`);
  }
  if (key === "rto" && typeof raw === "string" && raw.trim() === WITHIN_BOUND) {
    return { key, figure: "rto_s", kind: "within-bound" };
  }
  const spec: ExpectationSpec = EXPECTATIONS[key];
  switch (spec.kind) {
    case "boolean":
      return parseBoolean(key, spec.figure, raw);
    case "duration":
      return parseDuration(key, spec.figure, raw);
    case "count":
      return parseCount(key, spec.figure, raw);
  }
}

export function compare(actual: number, op: ComparisonOp, expected: number): boolean {
  switch (op) {
    case "<":
      return actual < expected;
    case "<=":
      return actual <= expected;
    case "=":
      return actual === expected;
    case ">=":
      return actual >= expected;
    case ">":
      return actual > expected;
    case "!=":
      return actual !== expected;
  }
}

/** Seconds without float noise or trailing zeros: 5.21 → "5.21s", 120 → "120s". */
export function formatSeconds(seconds: number): string {
  return `${Number(seconds.toFixed(3))}s`;
}

/** The normal form of what was promised, e.g. "< 30s", "= 0", "false". */
export function describeExpectation(expectation: Expectation): string {
  switch (expectation.kind) {
    case "boolean":
      return String(expectation.value);
    case "duration":
      return `${expectation.op} ${formatSeconds(expectation.seconds)}`;
    case "count":
      return `${expectation.op} ${expectation.count}`;
    case "within-bound":
      return WITHIN_BOUND;
  }
}

/**
 * No tolerance: every part of the bound is already the HA manager's worst case, and the RTO is
 * measured to the millisecond from acknowledgements; slack would hide the very reconnection time
 * (promotion → first write) that no setting governs and the phases are there to expose.
 */
function evaluateWithinBound(
  expectation: Expectation,
  rto: number | null,
  bound: RtoBound | null,
): ExpectationResult {
  const { key } = expectation;
  if (bound === null) {
    const measured = rto === null ? "none" : formatSeconds(rto);
    return {
      key,
      expected: WITHIN_BOUND,
      actual: `${measured}, no bound derivable from the settings`,
      pass: false,
    };
  }
  const limit = `bound ${formatSeconds(bound.bound_s)}`;
  if (rto === null) return { key, expected: WITHIN_BOUND, actual: `none (${limit})`, pass: false };
  return {
    key,
    expected: WITHIN_BOUND,
    actual: `${formatSeconds(rto)} (${limit})`,
    pass: rto <= bound.bound_s,
  };
}

/** Several paths: each within its own bound (a name re-pointed late is allowed its interval and TTL). */
function evaluatePathsWithinBound(expectation: Expectation, paths: readonly PathRto[]): ExpectationResult {
  const parts = paths.map((p) => {
    const measured = p.rto_s === null ? "none" : formatSeconds(p.rto_s);
    const bound = p.bound_s === null ? "no bound" : `bound ${formatSeconds(p.bound_s)}`;
    return {
      text: `${p.path} ${measured} (${bound})`,
      pass: p.rto_s !== null && p.bound_s !== null && p.rto_s <= p.bound_s,
    };
  });
  return {
    key: expectation.key,
    expected: WITHIN_BOUND,
    actual: parts.map((p) => p.text).join(", "),
    pass: parts.every((p) => p.pass),
  };
}

/** A null figure (e.g. RTO that never recovered) fails any comparison: nothing was measured to pass. */
export function evaluateExpectation(
  expectation: Expectation,
  figures: Figures,
  context: ExpectationContext = { rto_bound: null },
): ExpectationResult {
  if (expectation.kind === "within-bound") {
    const paths = context.paths ?? [];
    if (paths.length > 1 && context.rto_bound !== null) return evaluatePathsWithinBound(expectation, paths);
    return evaluateWithinBound(expectation, figures[expectation.figure], context.rto_bound);
  }
  const expected = describeExpectation(expectation);
  if (expectation.kind === "boolean") {
    const actual = figures[expectation.figure];
    return { key: expectation.key, expected, actual: String(actual), pass: actual === expectation.value };
  }
  const actual = figures[expectation.figure];
  if (actual === null) {
    const reason = context.unknown?.[expectation.figure];
    return {
      key: expectation.key,
      expected,
      actual: reason === undefined ? "none" : `unknown — ${reason}`,
      pass: false,
    };
  }
  const [target, shown] =
    expectation.kind === "duration"
      ? [expectation.seconds, formatSeconds(actual)]
      : [expectation.count, String(actual)];
  return { key: expectation.key, expected, actual: shown, pass: compare(actual, expectation.op, target) };
}

/** Throws on the first unknown key or malformed value, with a one-line message naming it. */
export function evaluateExpectations(
  expect: Readonly<Record<string, string | number | boolean>>,
  figures: Figures,
  context: ExpectationContext = { rto_bound: null },
): ExpectationResult[] {
  return Object.entries(expect).map(([key, raw]) =>
    evaluateExpectation(parseExpectation(key, raw), figures, context),
  );
}
