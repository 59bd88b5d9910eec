/**
 * Time conversions, the wording verify uses for times in problems and evidence, and how a figure
 * reads everywhere (verify's catalogue and every reporter share these, so all say the same thing).
 */

export const NS_PER_SECOND = 1_000_000_000;

export function nsToSeconds(ns: number): number {
  return ns / NS_PER_SECOND;
}

/** A duration in evidence text, fixed to milliseconds so windows line up: "1.240 s". */
export function formatDuration(ns: number): string {
  return `${nsToSeconds(ns).toFixed(3)} s`;
}

/** An instant since the run started, without trailing zeros: "12.3 s". */
export function formatInstant(ns: number): string {
  return `${Number(nsToSeconds(ns).toFixed(3))} s`;
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
