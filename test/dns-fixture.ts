import type { TimelineEvent } from "../harness/model/timeline.ts";
import type { ResultJson } from "../harness/report/json.ts";
import { type ScenarioRun, resultOf } from "./helpers.ts";

export interface PathFigures {
  rto_s: number;
  acknowledged_writes: number;
  lost_writes: number;
}

/** The figures, timeline and name-service check of one run, typed as the tests read them. */
export function dnsRun(run: ScenarioRun, topology: string) {
  // The whole result.json contract (the helpers' type names only what most tests read).
  const result = resultOf(run, topology) as unknown as ResultJson;
  const groups = result.figures.groups as unknown as Record<string, PathFigures>;
  const timeline: TimelineEvent[] = result.timeline;
  const fault = timeline.find((e) => e.kind === "fault" && e.phase === "inject");
  const repoints = timeline.filter((e) => e.kind === "repoint");
  const names = result.name_service;
  if (!fault || !names) throw new Error(`${topology}: no fault or no name service in the result`);
  const dnsOutage = result.outages.find((o) => o.group === "dns");
  return { result, groups, fault, repoints, names, dnsOutage };
}
