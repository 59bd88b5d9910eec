import type { ExpectationResult, Figures, Verification } from "../model/figures.ts";
/**
 * Figures over repeats: spreads (min / p50 / p95 / max) of durations, and how many runs lost writes
 * or split — with the expectations written over them (`rto_p95: "< 15s"`, `lost_writes_runs: 0`,
 * `split_brain_rate: "< 5%"`). Pure, like the rest of verify.
 */
import {
  type ComparisonOp,
  EXPECTATIONS,
  type ExpectationKey,
  compare,
  formatSeconds,
  parseDurationSeconds,
  splitComparison,
} from "./expectations.ts";

export const STATISTICS = ["min", "p50", "p95", "max"] as const;
export type Statistic = (typeof STATISTICS)[number];

type Spec = (typeof EXPECTATIONS)[ExpectationKey];
type DurationKey = {
  [K in ExpectationKey]: (typeof EXPECTATIONS)[K]["kind"] extends "duration" ? K : never;
}[ExpectationKey];
type TallyKey = Exclude<ExpectationKey, DurationKey>;

const DURATION_KEYS = (Object.keys(EXPECTATIONS) as ExpectationKey[]).filter(
  (key): key is DurationKey => EXPECTATIONS[key].kind === "duration",
);
const TALLY_KEYS = (Object.keys(EXPECTATIONS) as ExpectationKey[]).filter(
  (key): key is TallyKey => EXPECTATIONS[key].kind !== "duration",
);

/** A duration over repeats. null: at that rank a run never recovered (or nothing was measured). */
export interface Spread {
  runs: number;
  min: number | null;
  p50: number | null;
  p95: number | null;
  max: number | null;
  /** Runs whose figure was none (e.g. writes never came back). */
  none: number;
}

/**
 * Nearest-rank percentile: the smallest value with at least p% of the runs at or below it, so
 * p95 of 3 runs is the worst of them and every reported value is one a run really had. A run with
 * no value counts as the worst (a failover that never finished is slower than any that did).
 */
export function spread(values: readonly (number | null)[]): Spread {
  const sorted = [...values].sort(
    (a, b) => (a ?? Number.POSITIVE_INFINITY) - (b ?? Number.POSITIVE_INFINITY),
  );
  const at = (p: number): number | null => {
    if (sorted.length === 0) return null;
    return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? null;
  };
  const measured = values.filter((v): v is number => v !== null);
  return {
    runs: values.length,
    min: measured.length > 0 ? Math.min(...measured) : null,
    p50: at(50),
    p95: at(95),
    max: sorted.length === 0 ? null : (sorted[sorted.length - 1] ?? null),
    none: values.length - measured.length,
  };
}

/** A count or flag over repeats: in how many runs it was non-zero (or true). */
export interface Tally {
  runs: number;
  /** Runs where the figure was non-zero / true. */
  hit: number;
  /** Sum over the runs that measured it (0/1 for a flag). */
  total: number;
  /** Runs where the figure was not measured: neither a hit nor a clean run. */
  unknown: number;
}

export interface GroupStatistics {
  runs: number;
  passed: number;
  failed: number;
  spreads: Record<DurationKey, Spread>;
  tallies: Record<TallyKey, Tally>;
}

function figureValue(figures: Figures, key: ExpectationKey): number | boolean | null {
  return figures[EXPECTATIONS[key].figure as keyof Figures] as number | boolean | null;
}

export function groupStatistics(verifications: readonly Verification[]): GroupStatistics {
  const passed = verifications.filter((v) => v.verdict === "pass").length;
  const spreads = Object.fromEntries(
    DURATION_KEYS.map((key) => [
      key,
      spread(verifications.map((v) => figureValue(v.figures, key) as number | null)),
    ]),
  ) as Record<DurationKey, Spread>;
  const tallies = Object.fromEntries(
    TALLY_KEYS.map((key) => {
      const raw = verifications.map((v) => figureValue(v.figures, key));
      // An unmeasured run is counted as unknown, never as a run without the finding.
      const values = raw.filter((x): x is number | boolean => x !== null && x !== undefined).map(Number);
      return [
        key,
        {
          runs: raw.length,
          hit: values.filter((x) => x > 0).length,
          total: values.reduce((a, b) => a + b, 0),
          unknown: raw.length - values.length,
        },
      ];
    }),
  ) as Record<TallyKey, Tally>;
  return { runs: verifications.length, passed, failed: verifications.length - passed, spreads, tallies };
}

/** An expectation over a group of repeats. */
export type AggregateExpectation =
  | {
      key: string;
      kind: "spread";
      base: DurationKey;
      statistic: Statistic;
      op: ComparisonOp;
      seconds: number;
    }
  | { key: string; kind: "runs"; base: TallyKey | "failed"; op: ComparisonOp; count: number }
  | { key: string; kind: "rate"; base: TallyKey | "pass"; op: ComparisonOp; percent: number };

/** Every aggregate key with what it means; the scenario schema and certify suites document from this. */
export const AGGREGATE_EXPECTATIONS: Record<string, string> = Object.fromEntries([
  ...DURATION_KEYS.flatMap((key) =>
    STATISTICS.map((s) => [
      `${key}_${s}`,
      `${s} over repeats of: ${(EXPECTATIONS[key] as Spec).description}`,
    ]),
  ),
  ...TALLY_KEYS.flatMap((key) => [
    [`${key}_runs`, `How many runs had non-zero ${key}.`],
    [`${key}_rate`, `Share of runs with non-zero ${key}, e.g. "< 5%".`],
  ]),
  ["failed_runs", "How many runs failed their own expectations or hit a problem."],
  ["pass_rate", 'Share of runs that passed, e.g. ">= 95%".'],
]);

export function isAggregateKey(key: string): boolean {
  return Object.hasOwn(AGGREGATE_EXPECTATIONS, key);
}

const PERCENT = /^(\d+(?:\.\d+)?)\s*%?$/;

/** Throws a one-line message naming the key and the accepted forms. */
export function parseAggregateExpectation(key: string, raw: string | number | boolean): AggregateExpectation {
  const { op, operand } =
    typeof raw === "string" ? splitComparison(raw) : { op: "=" as const, operand: String(raw) };
  const spreadKey = DURATION_KEYS.flatMap((base) =>
    STATISTICS.map((statistic) => ({ base, statistic })),
  ).find(({ base, statistic }) => `${base}_${statistic}` === key);
  if (spreadKey) {
    const seconds = typeof raw === "number" ? raw : parseDurationSeconds(operand);
    if (seconds === null || typeof raw === "boolean") {
      throw new Error(
        `expect.${key}: ${JSON.stringify(raw)} is not a duration comparison; write e.g. "< 15s"`,
      );
    }
    return { key, kind: "spread", ...spreadKey, op, seconds };
  }
  const base = key.replace(/_(runs|rate)$/, "");
  const tally =
    key === "failed_runs"
      ? "failed"
      : key === "pass_rate"
        ? "pass"
        : (TALLY_KEYS.find((k) => k === base) ?? null);
  if (tally !== null && key.endsWith("_runs") && tally !== "pass") {
    if (!/^\d+$/.test(operand)) {
      throw new Error(`expect.${key}: ${JSON.stringify(raw)} is not a count of runs; write e.g. 0 or "<= 1"`);
    }
    return { key, kind: "runs", base: tally, op, count: Number(operand) };
  }
  if (tally !== null && key.endsWith("_rate") && tally !== "failed") {
    const match = PERCENT.exec(operand);
    if (!match || Number(match[1]) > 100) {
      throw new Error(
        `expect.${key}: ${JSON.stringify(raw)} is not a share of runs; write e.g. "< 5%" or "0%"`,
      );
    }
    return { key, kind: "rate", base: tally, op, percent: Number(match[1]) };
  }
  throw new Error(
    `expect.${key} is not a known expectation over repeats; e.g. rto_p95, lost_writes_runs, split_brain_rate, pass_rate`,
  );
}

const rateText = (hit: number, runs: number, unknown = 0) =>
  `${hit} of ${runs} runs (${runs === 0 ? 0 : Number(((100 * hit) / runs).toFixed(1))}%)${unknown > 0 ? `, unknown in ${unknown}` : ""}`;

/** A group with no runs passes nothing: there is nothing to vouch for. */
export function evaluateAggregate(
  expectation: AggregateExpectation,
  stats: GroupStatistics,
): ExpectationResult {
  const { key } = expectation;
  if (stats.runs === 0) return { key, expected: describe(expectation), actual: "no runs", pass: false };
  switch (expectation.kind) {
    case "spread": {
      const value = stats.spreads[expectation.base][expectation.statistic];
      if (value === null) return { key, expected: describe(expectation), actual: "none", pass: false };
      return {
        key,
        expected: describe(expectation),
        actual: formatSeconds(value),
        pass: compare(value, expectation.op, expectation.seconds),
      };
    }
    case "runs": {
      const hit = expectation.base === "failed" ? stats.failed : stats.tallies[expectation.base].hit;
      const unknown = expectation.base === "failed" ? 0 : stats.tallies[expectation.base].unknown;
      return {
        key,
        expected: describe(expectation),
        actual: rateText(hit, stats.runs, unknown),
        // A run that could not be measured vouches for nothing: the promise cannot be said to hold.
        pass: unknown === 0 && compare(hit, expectation.op, expectation.count),
      };
    }
    case "rate": {
      const hit = expectation.base === "pass" ? stats.passed : stats.tallies[expectation.base].hit;
      const unknown = expectation.base === "pass" ? 0 : stats.tallies[expectation.base].unknown;
      const percent = (100 * hit) / stats.runs;
      return {
        key,
        expected: describe(expectation),
        actual: rateText(hit, stats.runs, unknown),
        pass: unknown === 0 && compare(percent, expectation.op, expectation.percent),
      };
    }
  }
}

function describe(expectation: AggregateExpectation): string {
  switch (expectation.kind) {
    case "spread":
      return `${expectation.op} ${formatSeconds(expectation.seconds)}`;
    case "runs":
      return `${expectation.op} ${expectation.count}`;
    case "rate":
      return `${expectation.op} ${expectation.percent}%`;
  }
}

/** A malformed line fails alone instead of aborting the summary. */
export function evaluateAggregates(
  expect: Readonly<Record<string, string | number | boolean>>,
  stats: GroupStatistics,
): ExpectationResult[] {
  return Object.entries(expect)
    .filter(([key]) => isAggregateKey(key))
    .map(([key, raw]) => {
      try {
        return evaluateAggregate(parseAggregateExpectation(key, raw), stats);
      } catch (error) {
        return { key, expected: String(raw), actual: (error as Error).message, pass: false };
      }
    });
}
