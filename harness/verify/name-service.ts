/**
 * An entry point that follows the primary late (the dns entry point): how long the name lagged
 * each promotion, and which writes its clients sent to a node that was no longer the primary.
 */

import type { NameServiceCheck, Repointing, StaleNameWrite } from "../model/figures.ts";
import type { NameServiceFigures, Promotion } from "../model/figures.ts";
import type { WriteOperation } from "../model/history.ts";
import type { NameServiceRecord } from "../model/record.ts";
import type { TimelineEvent } from "../model/timeline.ts";
import { nsToSeconds } from "./units.ts";

/** A repointing a moment before the promotion's own timestamp still follows it (sampled vs reported clocks). */
const TOLERANCE_NS = 1e9;

type RepointEvent = Extract<TimelineEvent, { kind: "repoint" }>;

export function checkNameService(
  service: NameServiceRecord,
  promotions: readonly Promotion[],
  history: readonly WriteOperation[],
  timeline: readonly TimelineEvent[],
): NameServiceCheck {
  const repoints = timeline
    .filter((e): e is RepointEvent => e.kind === "repoint")
    .sort((a, b) => a.at_ns - b.at_ns);
  const sorted = [...promotions].sort((a, b) => a.at_ns - b.at_ns);
  const repointings = sorted.map((promotion): Repointing => {
    const followed = repoints.find(
      (e) => e.to === promotion.member && e.at_ns >= promotion.at_ns - TOLERANCE_NS,
    );
    const repointed_ns = followed?.at_ns ?? null;
    return {
      member: promotion.member,
      promoted_ns: promotion.at_ns,
      repointed_ns,
      delay_s: repointed_ns === null ? null : nsToSeconds(Math.max(0, repointed_ns - promotion.at_ns)),
    };
  });
  const unfollowed = repointings.filter((r) => r.repointed_ns === null);
  const groups = new Set(service.groups);
  const stale_writes: StaleNameWrite[] = [];
  for (const op of history) {
    if (!groups.has(op.group) || op.node === null) continue;
    const latest = latestBefore(sorted, op.invoke_ns);
    if (latest === undefined || latest.member === op.node) continue;
    stale_writes.push({
      id: op.id,
      group: op.group,
      node: op.node,
      outcome: op.outcome,
      invoke_ns: op.invoke_ns,
      primary: latest.member,
    });
  }
  stale_writes.sort(
    (a, b) => Number(b.outcome === "ok") - Number(a.outcome === "ok") || a.invoke_ns - b.invoke_ns,
  );
  const acknowledged = stale_writes.filter((w) => w.outcome === "ok").length;
  return {
    name: service.name,
    repointings,
    repoint_delay_s:
      repointings.length === 0 || unfollowed.length > 0
        ? null
        : Math.max(...repointings.map((r) => r.delay_s ?? 0)),
    stale_writes,
    acknowledged,
    refused: stale_writes.length - acknowledged,
  };
}

function latestBefore(promotions: readonly Promotion[], ns: number): Promotion | undefined {
  let latest: Promotion | undefined;
  for (const promotion of promotions) {
    if (promotion.at_ns > ns) break;
    latest = promotion;
  }
  return latest;
}

/** The run-wide figures of a check; a run without a name service (or a result from before) has none to lag. */
export function nameServiceFigures(check: NameServiceCheck | null): NameServiceFigures {
  return {
    repoint_delay_s: check?.repoint_delay_s ?? null,
    stale_name_writes: check?.acknowledged ?? null,
    stale_name_refused_writes: check?.refused ?? null,
  };
}
