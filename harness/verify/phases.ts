/**
 * RTO in phases: where the time of one fault's outage went. Detection runs from the outage start
 * to the HA manager's first reaction, election from there to the promotion it recorded,
 * reconnection from the promotion to the first acknowledged write (per entry point). All
 * boundaries are recorded events; a phase whose boundary is missing is null, never estimated.
 */

import type { RtoPhases } from "../model/figures.ts";
import type { Outage, Promotion } from "../model/figures.ts";
import type { TimelineEvent } from "../model/timeline.ts";
import { SAMPLED_PROMOTION_SOURCE } from "./promotions.ts";
import type { FaultRto } from "./rto.ts";
import { nsToSeconds } from "./units.ts";

type HaEvent = Extract<TimelineEvent, { kind: "ha" }>;

function firstReaction(
  topology: string,
  patterns: readonly RegExp[],
  timeline: readonly TimelineEvent[],
  fromNs: number,
  toNs: number,
): HaEvent | null {
  let first: HaEvent | null = null;
  for (const event of timeline) {
    // Only the manager's own events: "<topology> status" lines are the harness sampling it.
    if (event.kind !== "ha" || event.source !== topology) continue;
    if (event.at_ns < fromNs || event.at_ns > toNs) continue;
    if (!patterns.some((pattern) => pattern.test(event.text))) continue;
    if (first === null || event.at_ns < first.at_ns) first = event;
  }
  return first;
}

const seconds = (ns: number): number => nsToSeconds(ns);

/**
 * The phases of each fault's outage, in the order of `perFault` (the worst entry point per fault,
 * as in Verification.rto_per_fault). null for a fault no promotion answered: one after the fault
 * and before writes came back on every entry point (and before the next fault). `outages` are
 * every entry point's windows (rto.ts outagesPerFault); `reactions` the HA manager's (HaRules, bound.ts;
 * none for one this version does not know). With every boundary known the three
 * phases add up to the fault's RTO.
 */
export function rtoPhases(
  topology: string,
  reactions: readonly RegExp[],
  timeline: readonly TimelineEvent[],
  perFault: readonly FaultRto[],
  outages: readonly Outage[],
  promotions: readonly Promotion[],
): (RtoPhases | null)[] {
  const byTime = [...promotions].sort((a, b) => a.at_ns - b.at_ns);
  return perFault.map((fault, index) => {
    const nextFaultNs = perFault[index + 1]?.at_ns ?? Number.POSITIVE_INFINITY;
    const endNs = fault.rto_s === null ? null : fault.outage_start_ns + Math.round(fault.rto_s * 1e9);
    const promotion = byTime.find(
      (p) => p.at_ns >= fault.at_ns && p.at_ns < nextFaultNs && (endNs === null || p.at_ns <= endNs),
    );
    if (!promotion) return null;
    const startNs = fault.outage_start_ns;
    const reaction = firstReaction(topology, reactions, timeline, fault.at_ns, promotion.at_ns);
    // A promotion seen only in role samples happened some time before the sample: no boundary.
    const reported = promotion.source !== SAMPLED_PROMOTION_SOURCE;
    // Boundaries before the outage started (the HA manager already at work) count from its start.
    const reactionNs = reaction === null ? null : Math.max(reaction.at_ns, startNs);
    const promotionNs = Math.max(promotion.at_ns, reactionNs ?? startNs);
    const perEntrypoint: Record<string, number | null> = {};
    for (const outage of outages) {
      if (outage.at_ns !== fault.at_ns) continue;
      const recovered = reported && outage.end_ns !== null && outage.end_ns >= promotionNs;
      perEntrypoint[outage.group] =
        recovered && outage.end_ns !== null ? seconds(outage.end_ns - promotionNs) : null;
    }
    return {
      detection_s: reactionNs === null ? null : seconds(reactionNs - startNs),
      election_s: reactionNs === null || !reported ? null : seconds(promotionNs - reactionNs),
      reconnection_s: endNs === null || !reported ? null : seconds(endNs - promotionNs),
      until_promotion_s: reported ? seconds(promotionNs - startNs) : null,
      reconnection_per_entrypoint: perEntrypoint,
      reaction: reaction && { at_ns: reaction.at_ns, member: reaction.member, text: reaction.text },
      promotion: { at_ns: promotion.at_ns, member: promotion.member, source: promotion.source },
    };
  });
}
