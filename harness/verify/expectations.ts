/** A scenario's `expect:` block: parsing each promise and checking it against the figures. */

import type { ExpectationResult, Figures } from "./figures.ts";

export type ComparisonOp = "<" | "<=" | "=" | ">=" | ">" | "!=";
export type ExpectationKind = "duration" | "count" | "boolean";

type NumericFigure = {
  [K in keyof Figures]: Figures[K] extends number | null ? K : never;
}[keyof Figures];
type BooleanFigure = { [K in keyof Figures]: Figures[K] extends boolean ? K : never }[keyof Figures];

type ExpectationSpec =
  | { figure: NumericFigure; kind: "duration" | "count"; description: string }
  | { figure: BooleanFigure; kind: "boolean"; description: string };

/** Every key a scenario may put under `expect:`; the scenario schema validates and documents from this. */
export const EXPECTATIONS = {
  rto: {
    figure: "rto_s",
    kind: "duration",
    description: "Worst time writes were impossible after a fault, measured from the acknowledgements.",
  },
  max_write_gap: {
    figure: "max_write_gap_s",
    kind: "duration",
    description: "Longest gap between consecutive acknowledged writes.",
  },
  lost_writes: {
    figure: "lost_writes",
    kind: "count",
    description: "Acknowledged writes missing from the final primary.",
  },
  unknown_writes: {
    figure: "unknown_writes",
    kind: "count",
    description: "Writes whose outcome the client could not know.",
  },
  acknowledged_writes: {
    figure: "acknowledged_writes",
    kind: "count",
    description: "Writes the cluster acknowledged.",
  },
  failed_writes: {
    figure: "failed_writes",
    kind: "count",
    description: "Writes that certainly did not commit.",
  },
  wal_loss_bytes: {
    figure: "wal_loss_bytes",
    kind: "count",
    description: "Acknowledged WAL bytes beyond the fork point of a promoted timeline.",
  },
  promotions: { figure: "promotions", kind: "count", description: "Promotions to a new timeline." },
  split_brain: {
    figure: "split_brain",
    kind: "boolean",
    description: "Whether two members accepted writes, or were sampled writable, at once.",
  },
  split_brain_window: {
    figure: "split_brain_window_s",
    kind: "duration",
    description: "Longest time two members accepted writes at once.",
  },
  write_blocked: {
    figure: "write_blocked_s",
    kind: "duration",
    description:
      "Longest time one write was in flight without an answer (e.g. waiting for a crashed sync standby).",
  },
  old_primary_rejoin: {
    figure: "old_primary_rejoin_s",
    kind: "duration",
    description:
      "Heal → the old primary streams again as a replica on the new timeline; none if it never did.",
  },
} as const satisfies Record<string, ExpectationSpec>;

export type ExpectationKey = keyof typeof EXPECTATIONS;

export const EXPECTATION_KEYS = Object.keys(EXPECTATIONS) as ExpectationKey[];

export type Expectation =
  | { key: ExpectationKey; figure: NumericFigure; kind: "duration"; op: ComparisonOp; seconds: number }
  | { key: ExpectationKey; figure: NumericFigure; kind: "count"; op: ComparisonOp; count: number }
  | { key: ExpectationKey; figure: BooleanFigure; kind: "boolean"; value: boolean };

const COMPARISON = /^\s*(<=|>=|==|!=|<|>|=)?\s*(.*?)\s*$/;
const DURATION = /^(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m)?$/;
const COUNT = /^\d+$/;

function isExpectationKey(key: string): key is ExpectationKey {
  return Object.hasOwn(EXPECTATIONS, key);
}

/** "<= 3" → { op: "<=", operand: "3" }; no operator means "=", and "==" is written "=". */
function splitComparison(text: string): { op: ComparisonOp; operand: string } {
  const match = COMPARISON.exec(text);
  const written = match?.[1] ?? "=";
  return { op: written === "==" ? "=" : (written as ComparisonOp), operand: match?.[2] ?? "" };
}

function parseDurationSeconds(operand: string): number | null {
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
    throw new Error(
      `expect.${key}: ${JSON.stringify(raw)} is not a duration comparison; write e.g. "< 30s", "<= 1.5s", "< 500ms", "< 2m" or a number of seconds`,
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

function compare(actual: number, op: ComparisonOp, expected: number): boolean {
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
function formatSeconds(seconds: number): string {
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
  }
}

/** A null figure (e.g. RTO that never recovered) fails any comparison: nothing was measured to pass. */
export function evaluateExpectation(expectation: Expectation, figures: Figures): ExpectationResult {
  const expected = describeExpectation(expectation);
  if (expectation.kind === "boolean") {
    const actual = figures[expectation.figure];
    return { key: expectation.key, expected, actual: String(actual), pass: actual === expectation.value };
  }
  const actual = figures[expectation.figure];
  if (actual === null) return { key: expectation.key, expected, actual: "none", pass: false };
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
): ExpectationResult[] {
  return Object.entries(expect).map(([key, raw]) => evaluateExpectation(parseExpectation(key, raw), figures));
}
