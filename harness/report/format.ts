import type { Stack } from "../backend/backend.ts";
/** Small number formatters shared by the HTML and terminal reporters, so both say the same thing. */

const NS_PER_S = 1_000_000_000;

export function nsToS(ns: number): number {
  return ns / NS_PER_S;
}

/** Rounds to milliseconds; result.json and the events table show seconds with 3 decimals. */
export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** "5.50 s", or an em dash for a figure that does not exist (no fault, never recovered). */
export function formatSeconds(s: number | null, digits = 2): string {
  return s === null || !Number.isFinite(s) ? "—" : `${s.toFixed(digits)} s`;
}

/** 1234567 → "1,234,567"; done by hand so the output does not depend on the ICU build. */
export function formatCount(n: number): string {
  const sign = n < 0 ? "-" : "";
  return sign + String(Math.abs(Math.trunc(n))).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** Binary units, as PostgreSQL reports WAL sizes. */
export function formatBytes(n: number): string {
  if (Math.abs(n) < 1024) return `${formatCount(n)} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let unit = "B";
  for (const u of units) {
    if (Math.abs(v) < 1024) break;
    v /= 1024;
    unit = u;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${unit}`;
}

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
