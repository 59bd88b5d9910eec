import type { ListAppendCheck } from "../model/figures.ts";
import type { Stack } from "../model/record.ts";
import type { RunRecord } from "../model/record.ts";
/** Small number formatters shared by the HTML and terminal reporters, so both say the same thing. */

const NS_PER_S = 1_000_000_000;

export function nsToS(ns: number): number {
  return ns / NS_PER_S;
}

/** Rounds to milliseconds; result.json and the events table show seconds with 3 decimals. */
export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

// The figure formatters live in verify, whose catalogue formats figures and must not import report.
export { formatBytes, formatCount, formatSeconds } from "../verify/units.ts";

/** Stringifies a setting or version value the way a reader expects to see it. */
export function formatValue(v: unknown): string {
  if (typeof v === "string") return v;
  if (v === undefined) return "";
  return JSON.stringify(v) ?? String(v);
}

/** An image id as Docker prints it: the first 12 hex digits of the sha256. */
export function shortImageId(id: string): string {
  return id.replace(/^sha256:/, "").slice(0, 12);
}

/** The stack a run used, as every reporter names it: "trixie (pgchaos/node:trixie 3f2a9c1d0b7e)". */
export function stackLabel(stack: Stack): string {
  if (!stack.image) return stack.name;
  return `${stack.name} (${stack.image.name} ${shortImageId(stack.image.id)})`;
}

/**
 * Where a run sits in its plan, as every reporter shows it: its key, its seed (what replays it),
 * and — a caveat on every timing — whether other clusters ran beside it.
 */
export function planFacts(r: RunRecord): [string, string][] {
  const facts: [string, string][] = [];
  if (r.plan) facts.push(["plan run", r.plan.key]);
  facts.push([
    "seed",
    `${r.seed}${r.plan ? ` (replay: --seed ${r.plan.plan_seed} --only ${r.plan.key})` : ""}`,
  ]);
  if (r.concurrency > 1)
    facts.push(["concurrency", `${r.concurrency} runs at once: timings shared the machine`]);
  return facts;
}

/** A run among its scenario × topology's others: its sweep point and repeat ("patroni.ttl=5 · r2"). */
export function runLabel(r: RunRecord): string {
  return r.plan ? r.plan.key.split("/").slice(2).join(" · ") : "";
}

/** The anomaly kinds a list-append check found, as "G-single 64": the terminal and the report say the same. */
export function anomalyCounts(check: ListAppendCheck): string[] {
  return Object.entries(check.counts)
    .filter(([, count]) => count > 0)
    .map(([kind, count]) => `${kind} ${count}`);
}
