import type { RtoBound, RtoPhases } from "../model/figures.ts";

import { n, tickStep } from "./axis.ts";
import { escapeHtml as esc } from "./escape.ts";
import { PHASE_COLORS } from "./palette.ts";
/**
 * The sweep plot: RTO against an HA setting (or a stack), one slot per value. Each slot shows
 * every run's RTO as a dot, the median run's outage in its phases (detection, election,
 * reconnection) as a stacked bar, and beside it the bound the setting implies, split into the
 * same phases — so a slow failover shows where the time went and which setting governs it.
 * Renders what verify computed; computes nothing.
 */
import type { GroupSummary } from "./reporter.ts";

/** Groups that differ only in one sweep axis: one plot. */
export interface SweepFamily {
  scenario: string;
  topology: string;
  axis: string;
  /** The other axes' values, shared by every group of the family. */
  fixed: Record<string, string | number | boolean>;
  groups: GroupSummary[];
}

export function sweepFamilies(groups: GroupSummary[]): SweepFamily[] {
  const families = new Map<string, SweepFamily>();
  for (const group of groups) {
    for (const axis of Object.keys(group.point)) {
      const fixed = Object.fromEntries(Object.entries(group.point).filter(([k]) => k !== axis));
      const id = JSON.stringify([group.scenario, group.topology, axis, fixed]);
      const family = families.get(id) ?? {
        scenario: group.scenario,
        topology: group.topology,
        axis,
        fixed,
        groups: [],
      };
      family.groups.push(group);
      families.set(id, family);
    }
  }
  return [...families.values()].filter((f) => f.groups.length >= 2);
}

interface Slot {
  label: string;
  rtos: number[];
  phases: RtoPhases | null;
  medianRto: number | null;
  bound: RtoBound | null;
}

/** The run whose RTO is the group's median stands for the slot's phases (a real run, not an average). */
function slotOf(family: SweepFamily, group: GroupSummary): Slot {
  const runs = group.results
    .map((r) => ({ r, rto: r.report.verification.figures.rto_s }))
    .filter((x): x is { r: (typeof group.results)[number]; rto: number } => x.rto !== null)
    .sort((a, b) => a.rto - b.rto);
  const median = runs[Math.max(0, Math.ceil(runs.length / 2) - 1)];
  const worstFault = median?.r.report.verification.rto_per_fault.reduce<
    (typeof median.r.report.verification.rto_per_fault)[number] | null
  >((worst, f) => (worst === null || (f.rto_s ?? 0) > (worst.rto_s ?? 0) ? f : worst), null);
  return {
    label: String(group.point[family.axis]),
    rtos: runs.map((x) => x.rto),
    phases: worstFault?.phases ?? null,
    medianRto: median?.rto ?? null,
    bound: (median ?? { r: group.results[0] })?.r?.report.verification.rto_bound ?? null,
  };
}

const PHASES = ["detection", "election", "reconnection"] as const;
const H = 260;
const TOP = 16;
const BOTTOM = 40;
const LEFT = 56;
const SLOT_W = 120;

export function renderSweepSvg(family: SweepFamily): string {
  const slots = family.groups
    .map((g) => slotOf(family, g))
    .sort((a, b) => {
      const [x, y] = [Number(a.label), Number(b.label)];
      return Number.isFinite(x) && Number.isFinite(y) ? x - y : a.label.localeCompare(b.label);
    });
  const top = Math.max(1, ...slots.flatMap((s) => [...s.rtos, s.bound?.bound_s ?? 0]));
  const step = tickStep(top, 6);
  const max = Math.ceil(top / step) * step;
  const plotH = H - TOP - BOTTOM;
  const y = (s: number) => TOP + plotH - (s / max) * plotH;
  const width = LEFT + slots.length * SLOT_W + 20;
  const parts: string[] = [];
  for (let t = 0; t <= max + 1e-9; t += step) {
    parts.push(
      `<line x1="${LEFT}" x2="${width - 20}" y1="${n(y(t))}" y2="${n(y(t))}" stroke="#eceef2"/><text x="${LEFT - 6}" y="${n(y(t) + 4)}" text-anchor="end" font-size="11" fill="#667085">${t} s</text>`,
    );
  }
  slots.forEach((slot, i) => {
    const x0 = LEFT + i * SLOT_W + 24;
    // The median run's outage, phase by phase; a grey bar when the phases are unknown.
    const known = slot.phases && PHASES.every((p) => slot.phases?.[`${p}_s`] !== null);
    if (known && slot.phases) {
      let base = 0;
      for (const phase of PHASES) {
        const s = slot.phases[`${phase}_s`] ?? 0;
        parts.push(
          `<rect x="${x0}" y="${n(y(base + s))}" width="28" height="${n(y(base) - y(base + s))}" fill="${PHASE_COLORS[phase]}"><title>${phase} ${s.toFixed(2)} s</title></rect>`,
        );
        base += s;
      }
    } else if (slot.medianRto !== null) {
      parts.push(
        `<rect x="${x0}" y="${n(y(slot.medianRto))}" width="28" height="${n(y(0) - y(slot.medianRto))}" fill="#d0d5dd"><title>median RTO ${slot.medianRto.toFixed(2)} s (phases not recorded)</title></rect>`,
      );
    }
    // The bound, split into the same phases, as an outlined bar beside it.
    if (slot.bound) {
      let base = 0;
      for (const phase of PHASES) {
        const s = slot.bound.share_s[phase];
        if (s > 0) {
          parts.push(
            `<rect x="${x0 + 34}" y="${n(y(base + s))}" width="16" height="${n(y(base) - y(base + s))}" fill="${PHASE_COLORS[phase]}" fill-opacity=".25" stroke="${PHASE_COLORS[phase]}"><title>bound: ${phase} ${s} s</title></rect>`,
          );
        }
        base += s;
      }
      parts.push(
        `<line class="bound" x1="${x0 - 6}" x2="${x0 + 56}" y1="${n(y(slot.bound.bound_s))}" y2="${n(y(slot.bound.bound_s))}" stroke="#1d2939" stroke-dasharray="4 3"><title>bound ${slot.bound.bound_s} s = ${esc(slot.bound.formula)}</title></line>`,
      );
    }
    for (const rto of slot.rtos) {
      parts.push(
        `<circle class="run" cx="${x0 + 14}" cy="${n(y(rto))}" r="3.5" fill="#1d2939" fill-opacity=".7"><title>RTO ${rto.toFixed(2)} s</title></circle>`,
      );
    }
    parts.push(
      `<text x="${x0 + 25}" y="${H - BOTTOM + 16}" text-anchor="middle" font-size="12" fill="#344054">${esc(slot.label)}</text>`,
    );
  });
  parts.push(
    `<text x="${LEFT + (slots.length * SLOT_W) / 2}" y="${H - 6}" text-anchor="middle" font-size="12" fill="#667085">${esc(family.axis)}</text>`,
  );
  return `<svg class="sweep" viewBox="0 0 ${width} ${H}" width="${width}" height="${H}" role="img" aria-label="RTO against ${esc(family.axis)}">${parts.join("")}</svg>`;
}

export function sweepHtml(groups: GroupSummary[]): string {
  const families = sweepFamilies(groups);
  if (families.length === 0) return "";
  const legend = `<p class="hint">Dots: each run's RTO. Filled bar: the median run's outage by phase (${PHASES.map(
    (p) => `<span style="color:${PHASE_COLORS[p]}">■</span> ${p}`,
  ).join(
    ", ",
  )}). Outlined bar and dashed line: the bound the setting implies, split into the same phases.</p>`;
  const plots = families.map((f) => {
    const fixed = Object.entries(f.fixed).map(([k, v]) => `${k}=${v}`);
    return `<figure><figcaption>${esc([f.scenario, f.topology, ...fixed].join(" · "))}: RTO against ${esc(f.axis)}</figcaption>${renderSweepSvg(f)}</figure>`;
  });
  return `<h2>Sweep</h2>${legend}${plots.join("\n")}`;
}
