/**
 * One set of colours for every chart, legend and table of the reports, so a role or a fault kind
 * looks the same in the timeline, the workload chart, the comparison and the index.
 */
import type { HaState, LaneRole } from "./model.ts";

export const ROLE_COLORS: Record<LaneRole | "none", string> = {
  primary: "#2f5bd3",
  replica: "#a9c0ef",
  down: "#4b5261",
  unreachable: "#e3a52f",
  frozen: "#67c7d9",
  none: "#eceef2",
};

export const HA_COLORS: Record<HaState, string> = {
  complete: "#9fd8b4",
  incomplete: "#f7e08f",
  "no-primary": "#f19b94",
  unreachable: "#9aa1ad",
  other: "#d0d5dd",
};

export const HA_LABELS: Record<HaState, string> = {
  complete: "healthy",
  incomplete: "degraded",
  "no-primary": "no primary",
  unreachable: "manager unreachable",
  other: "other",
};

export const MARK_COLORS = {
  promotion: "#7a3fd4",
  ha: "#475467",
  ok: "#3f9a6e",
  fail: "#d92d20",
  unknown: "#f08c00",
  p50: "#2e90fa",
  p99: "#1d2939",
  rto: "#b42318",
} as const;

const FAULT_COLORS: Record<string, string> = {
  kill: "#e5484d",
  switchover: "#d6409f",
  partition: "#f76b15",
  pause: "#0891b2",
};
/** Kinds added later still get a stable colour of their own, picked by name. */
const SPARE_COLORS = ["#a16207", "#4d7c0f", "#0369a1", "#9f1239", "#6d28d9"];

export function faultColor(kind: string): string {
  const known = Object.hasOwn(FAULT_COLORS, kind) ? FAULT_COLORS[kind] : undefined;
  if (known !== undefined) return known;
  let hash = 0;
  for (const c of kind) hash = (hash * 31 + (c.codePointAt(0) ?? 0)) >>> 0;
  return SPARE_COLORS[hash % SPARE_COLORS.length] ?? "#a16207";
}

/** The parts of an outage, in the per-fault table and the sweep plot alike. */
export const PHASE_COLORS = {
  detection: "#e3a52f",
  election: "#2f5bd3",
  reconnection: "#67c7d9",
} as const;
