/**
 * The horizontal geometry shared by the timeline and the workload chart: both use the same width,
 * margins and time window, so stacked on a page their time axes line up exactly.
 */
import type { TimeWindow } from "./model.ts";

export const W = 1200;
export const LEFT = 132;
export const RIGHT = 20;
export const PLOT_W = W - LEFT - RIGHT;
/** Rough width of an 11px system-ui glyph; only used to keep labels from overlapping. */
export const CHAR_W = 6.4;

/** Coordinates with one decimal keep the markup small without visible error. */
export function n(x: number): string {
  return String(Math.round(x * 10) / 10);
}

/** Seconds since the run started, as the events table prints them. */
export function sec(ns: number): string {
  return (ns / 1e9).toFixed(3);
}

/** A round tick step giving at most ~12 ticks over the span. */
export function tickStep(spanS: number, maxTicks = 12): number {
  const steps = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1800, 3600];
  for (const step of steps) if (spanS / step <= maxTicks) return step;
  return Math.ceil(spanS / maxTicks / 3600) * 3600;
}

/** Maps a run time in ns to an x coordinate, clamped to the plot. */
export function xScale(window: TimeWindow): (ns: number) => number {
  const span = Math.max(1, window.to_ns - window.from_ns);
  return (ns: number) =>
    LEFT + ((Math.min(Math.max(ns, window.from_ns), window.to_ns) - window.from_ns) / span) * PLOT_W;
}

export interface Tick {
  ns: number;
  label: string;
}

/**
 * Round ticks relative to the window's origin: "0 s, 5 s, …" for a run, "−5 s, 0, +5 s" when the
 * origin is a fault, so a reader sees at once how long after the fault something happened.
 */
export function ticks(window: TimeWindow): Tick[] {
  const step = tickStep((window.to_ns - window.from_ns) / 1e9);
  const digits = step < 1 ? 1 : 0;
  const relative = window.origin_ns !== 0;
  const first = Math.ceil((window.from_ns - window.origin_ns) / 1e9 / step - 1e-9);
  const out: Tick[] = [];
  for (let i = first; window.origin_ns + i * step * 1e9 <= window.to_ns + 1; i++) {
    const t = i * step;
    const text = Math.abs(t).toFixed(digits);
    const sign = !relative || t === 0 ? "" : t > 0 ? "+" : "−";
    out.push({ ns: window.origin_ns + t * 1e9, label: `${sign}${text} s` });
  }
  return out;
}

/** Grid lines and the labelled time axis at axisY. */
export function axisSvg(window: TimeWindow, gridTop: number, gridBottom: number, axisY: number): string {
  const x = xScale(window);
  const out: string[] = [`<g class="axis-group">`];
  for (const t of ticks(window)) {
    const tx = n(x(t.ns));
    const zero = window.origin_ns !== 0 && t.ns === window.origin_ns;
    out.push(
      `<line class="grid${zero ? " zero" : ""}" x1="${tx}" x2="${tx}" y1="${n(gridTop)}" y2="${n(gridBottom)}"/>`,
    );
    out.push(`<line class="axis" x1="${tx}" x2="${tx}" y1="${n(axisY)}" y2="${n(axisY + 4)}"/>`);
    out.push(`<text class="tick" x="${tx}" y="${n(axisY + 16)}" text-anchor="middle">${t.label}</text>`);
  }
  out.push(`<line class="axis" x1="${LEFT}" x2="${W - RIGHT}" y1="${n(axisY)}" y2="${n(axisY)}"/>`);
  out.push(`</g>`);
  return out.join("\n");
}
