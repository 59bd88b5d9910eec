/**
 * Promotions as the HA manager reported them, cross-checked against sampled roles, each with its
 * fork point from PostgreSQL's own timeline history where it was read.
 */

import type { Promotion } from "../model/figures.ts";
import type { RunRecord, TimelineFork, TimelineHistory } from "../model/record.ts";
import type { TimelineEvent } from "../model/timeline.ts";
import { ancestry } from "../observe/timeline-history.ts";

export const SAMPLED_PROMOTION_SOURCE = "role samples";

type PromotionEvent = Extract<TimelineEvent, { kind: "promotion" }>;
type RoleEvent = Extract<TimelineEvent, { kind: "role" }>;
type ForkEvent = Extract<TimelineEvent, { kind: "fork" }>;

/** Promotions not yet matched with PostgreSQL's fork points. */
type Reported = Pick<Promotion, "at_ns" | "member" | "timeline" | "source"> & { ha_fork_lsn: string | null };

/** What the run knew at its end, to place a promotion the HA manager did not record. */
export interface PromotionContext {
  /** The HA manager's name, as the record has it. */
  topology: string;
  final: Pick<RunRecord["final"], "primary" | "nodes" | "histories">;
}

function byTime(a: { at_ns: number; timeline: number }, b: { at_ns: number; timeline: number }): number {
  return a.at_ns - b.at_ns || a.timeline - b.timeline;
}

/** The HA manager may repeat a promotion (e.g. on every poll of its history); keep the earliest. */
function reportedPromotions(timeline: readonly TimelineEvent[]): Reported[] {
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
    ha_fork_lsn: fork_lsn,
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
export function sampledPromotions(timeline: readonly TimelineEvent[]): Reported[] {
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
  const promotions = new Map<string, Reported>();
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
      ha_fork_lsn: null,
      source: SAMPLED_PROMOTION_SOURCE,
    });
  }
  return [...promotions.values()];
}

/**
 * Where PostgreSQL says `timeline` forked, as read on `member` itself (the sampler, when it first
 * saw it primary there), else in any history read at the end, if those agree. Two branches may
 * reuse a timeline number (two nodes promoted apart): then only the promoted node's own file counts.
 */
export function forkPoint(
  member: string,
  timeline: number,
  events: readonly TimelineEvent[],
  histories: readonly TimelineHistory[] = [],
): TimelineFork | null {
  const forks = events.filter((e): e is ForkEvent => e.kind === "fork" && e.timeline === timeline);
  const own =
    forks.find((e) => e.member === member) ??
    histories.find((h) => h.member === member && h.timeline === timeline)?.forks.at(-1);
  if (own) return { timeline, parent: own.parent, fork_lsn: own.fork_lsn, reason: own.reason };
  const candidates = [
    ...forks,
    ...histories.flatMap((h) => h.forks.filter((fork) => fork.timeline === timeline)),
  ];
  const first = candidates[0];
  if (!first || candidates.some((c) => c.fork_lsn !== first.fork_lsn || c.parent !== first.parent))
    return null;
  return { timeline, parent: first.parent, fork_lsn: first.fork_lsn, reason: first.reason };
}

/** Why the HA manager's own record has no trace of a promotion the samples saw. */
function unrecordedReason(
  promotion: Reported,
  reported: readonly Reported[],
  context: PromotionContext | undefined,
): string {
  const name = context?.topology ?? "the HA manager";
  const base =
    reported.length === 0
      ? `${name} recorded no promotion in this run`
      : `${name}'s history has no promotion to timeline ${promotion.timeline}`;
  const final = context?.final;
  const primary = final?.primary;
  const history = final?.histories?.find((h) => h.member === primary);
  if (!primary || !history) return base;
  if (ancestry(history.timeline, history.forks).has(promotion.timeline)) return base;
  return `${base}: the final primary ${primary} is on timeline ${history.timeline}, which does not descend from it: the timeline was abandoned`;
}

/**
 * Reported promotions, plus any the samples saw that the HA manager did not report, so a silent
 * HA manager cannot hide one. Matching is on member and timeline: two members promoted to the same
 * timeline number are two promotions. A reported promotion the samples missed is kept, since
 * sampling can miss a short window. Each fork point is PostgreSQL's where its history file was
 * read, the HA manager's otherwise (kept beside it either way, to be checked).
 */
export function derivePromotions(
  timeline: readonly TimelineEvent[],
  context?: PromotionContext,
): Promotion[] {
  const reported = reportedPromotions(timeline);
  const unreported = sampledPromotions(timeline).filter(
    (sampled) => !reported.some((r) => r.member === sampled.member && r.timeline === sampled.timeline),
  );
  const histories = context?.final.histories ?? [];
  return [...reported, ...unreported].sort(byTime).map((promotion): Promotion => {
    const fork = forkPoint(promotion.member, promotion.timeline, timeline, histories);
    const sampled = promotion.source === SAMPLED_PROMOTION_SOURCE;
    return {
      ...promotion,
      parent: fork?.parent ?? promotion.timeline - 1,
      fork_lsn: fork?.fork_lsn ?? promotion.ha_fork_lsn,
      fork_source: fork ? "timeline history" : promotion.ha_fork_lsn !== null ? "ha manager" : null,
      unrecorded: sampled ? unrecordedReason(promotion, reported, context) : null,
    };
  });
}

/** A fork point the HA manager records differently from PostgreSQL's own file: one of them is wrong. */
export function forkDisagreements(promotions: readonly Promotion[]): string[] {
  return promotions.flatMap((p) =>
    p.fork_source === "timeline history" && p.ha_fork_lsn !== null && p.ha_fork_lsn !== p.fork_lsn
      ? [
          `the promotion of ${p.member} to timeline ${p.timeline}: ${p.source} says it forked at ${p.ha_fork_lsn}, PostgreSQL's timeline history says ${p.fork_lsn}`,
        ]
      : [],
  );
}
