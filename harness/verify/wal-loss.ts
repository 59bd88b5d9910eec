/**
 * WAL acknowledged on a timeline that the cluster did not keep: the old timeline's tail past the
 * point where the promoted one forked off it, and the whole of a promoted timeline the final
 * primary does not descend from (a promotion undone, as when an old leader takes the lock back).
 */

import type { WalLossCheck, WalLossDetail } from "../model/figures.ts";
import type { Promotion } from "../model/figures.ts";
import type { WriteOperation } from "../model/history.ts";
import { formatLsn, lsnDiff, parseLsn } from "./lsn.ts";

interface TimelineAcks {
  /** Acknowledged writes on the timeline. */
  acked: number;
  /** Acknowledged writes that carried no LSN. */
  withoutLsn: number;
  maxLsn: bigint | undefined;
}

export function measureWalLoss(
  promotions: readonly Promotion[],
  history: readonly WriteOperation[],
  /** Timelines the final primary descends from; null when its history was not read. */
  finalAncestry: ReadonlySet<number> | null = null,
): WalLossCheck {
  const problems: string[] = [];
  const acks = new Map<number, TimelineAcks>();
  for (const op of history) {
    if (op.outcome !== "ok" || op.timeline === null) continue;
    const entry = acks.get(op.timeline) ?? { acked: 0, withoutLsn: 0, maxLsn: undefined };
    acks.set(op.timeline, entry);
    entry.acked += 1;
    if (op.lsn === null) {
      entry.withoutLsn += 1;
      continue;
    }
    let lsn: bigint;
    try {
      lsn = parseLsn(op.lsn);
    } catch {
      // Skipping it silently could hide a loss, so it becomes a problem that fails the verdict.
      problems.push(`write ${op.id} was acknowledged with malformed LSN ${JSON.stringify(op.lsn)}`);
      continue;
    }
    if (entry.maxLsn === undefined || lsn > entry.maxLsn) entry.maxLsn = lsn;
  }

  const measure = (promotion: Promotion, kind: WalLossDetail["kind"]): WalLossDetail => {
    const measured = kind === "past-fork" ? promotion.parent : promotion.timeline;
    const onTimeline = acks.get(measured);
    const detail: WalLossDetail = {
      member: promotion.member,
      timeline: promotion.timeline,
      kind,
      measured_timeline: measured,
      fork_lsn: promotion.fork_lsn,
      max_acked_lsn: onTimeline?.maxLsn === undefined ? null : formatLsn(onTimeline.maxLsn),
      loss_bytes: null,
      unknown: null,
    };
    const who = `the promotion of ${promotion.member} to timeline ${promotion.timeline}`;
    let fork: bigint | null = null;
    if (promotion.fork_lsn !== null) {
      try {
        fork = parseLsn(promotion.fork_lsn);
      } catch {
        problems.push(`${who} has malformed fork LSN ${JSON.stringify(promotion.fork_lsn)}`);
        return { ...detail, unknown: `${who} has a malformed fork LSN` };
      }
    }
    // Nothing acknowledged on the measured timeline: nothing acknowledged can be lost from it.
    if (onTimeline === undefined) return { ...detail, loss_bytes: 0 };
    if (fork === null) return { ...detail, unknown: `${who} has no fork LSN` };
    if (onTimeline.withoutLsn > 0 || onTimeline.maxLsn === undefined) {
      return {
        ...detail,
        unknown: `${onTimeline.withoutLsn} writes acknowledged on timeline ${measured} carried no LSN`,
      };
    }
    return { ...detail, loss_bytes: Math.max(0, lsnDiff(onTimeline.maxLsn, fork)) };
  };

  const perPromotion: WalLossDetail[] = [];
  for (const promotion of promotions) {
    // A promotion the final primary descends from cost its parent's tail; one it does not descend
    // from was undone, and what was lost is the promoted timeline itself (the parent lived on).
    const undone = finalAncestry !== null && !finalAncestry.has(promotion.timeline);
    perPromotion.push(measure(promotion, undone ? "abandoned" : "past-fork"));
  }
  const unknown = perPromotion.find((detail) => detail.loss_bytes === null)?.unknown ?? null;
  return {
    wal_loss_bytes:
      unknown === null ? perPromotion.reduce((sum, detail) => sum + (detail.loss_bytes ?? 0), 0) : null,
    unknown,
    per_promotion: perPromotion,
    problems,
  };
}
