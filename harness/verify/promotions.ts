/** Promotions as the HA manager reported them, cross-checked against sampled roles. */

import type { TimelineEvent } from "../observe/timeline.ts";
import type { Promotion } from "./figures.ts";

export const SAMPLED_PROMOTION_SOURCE = "role samples";

type PromotionEvent = Extract<TimelineEvent, { kind: "promotion" }>;
type RoleEvent = Extract<TimelineEvent, { kind: "role" }>;

function byTime(a: { at_ns: number; timeline: number }, b: { at_ns: number; timeline: number }): number {
  return a.at_ns - b.at_ns || a.timeline - b.timeline;
}

/** The HA manager may repeat a promotion (e.g. on every poll of its history); keep the earliest. */
function reportedPromotions(timeline: readonly TimelineEvent[]): Promotion[] {
  const earliestByTimeline = new Map<number, PromotionEvent>();
  for (const event of timeline) {
    if (event.kind !== "promotion") continue;
    const known = earliestByTimeline.get(event.timeline);
    if (known === undefined || event.at_ns < known.at_ns) earliestByTimeline.set(event.timeline, event);
  }
  return [...earliestByTimeline.values()].map(({ at_ns, member, timeline, fork_lsn, source }) => ({
    at_ns,
    member,
    timeline,
    fork_lsn,
    source,
  }));
}

/**
 * (member, timeline) pairs first sampled primary after that member's first sample, at the earliest
 * such sample. Skipped: a member already primary on its first sample (the initial primary); a
 * primary on the lowest timeline sampled at all (a promotion always creates a higher one, so this
 * is the initial primary seen late, e.g. after a failed first sample); a primary of unknown
 * timeline, which cannot be matched to a promotion.
 */
export function sampledPromotions(timeline: readonly TimelineEvent[]): Promotion[] {
  const samples = timeline
    .filter((event): event is RoleEvent => event.kind === "role")
    .sort((a, b) => a.at_ns - b.at_ns);
  // A reduce, not Math.min(...): a long run has more samples than a call takes arguments.
  const lowestTimeline = samples.reduce(
    (lowest, sample) => (sample.timeline === null ? lowest : Math.min(lowest, sample.timeline)),
    Number.POSITIVE_INFINITY,
  );
  const initialPairs = new Set<string>();
  const seenMembers = new Set<string>();
  const promotions = new Map<string, Promotion>();
  for (const sample of samples) {
    const isFirstSample = !seenMembers.has(sample.member);
    seenMembers.add(sample.member);
    if (sample.role !== "primary" || sample.timeline === null || sample.timeline <= lowestTimeline) continue;
    const pair = `${sample.member}\u0000${sample.timeline}`;
    if (isFirstSample) initialPairs.add(pair);
    if (initialPairs.has(pair) || promotions.has(pair)) continue;
    promotions.set(pair, {
      at_ns: sample.at_ns,
      member: sample.member,
      timeline: sample.timeline,
      fork_lsn: null,
      source: SAMPLED_PROMOTION_SOURCE,
    });
  }
  return [...promotions.values()];
}

/**
 * Reported promotions, plus any the samples saw that the HA manager did not report, so a silent
 * HA manager cannot hide one. Matching is on member and timeline: two members promoted to the same
 * timeline number are two promotions. A reported promotion the samples missed is kept, since
 * sampling can miss a short window.
 */
export function derivePromotions(timeline: readonly TimelineEvent[]): Promotion[] {
  const reported = reportedPromotions(timeline);
  const unreported = sampledPromotions(timeline).filter(
    (sampled) => !reported.some((r) => r.member === sampled.member && r.timeline === sampled.timeline),
  );
  return [...reported, ...unreported].sort(byTime);
}
