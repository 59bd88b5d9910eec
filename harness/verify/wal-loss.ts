/** WAL acknowledged on an old timeline past the point where the promoted timeline forked off it. */

import type { WriteOperation } from "../workload/history.ts";
import type { Promotion } from "./figures.ts";
import { formatLsn, lsnDiff, parseLsn } from "./lsn.ts";

export interface WalLossDetail {
  member: string;
  /** Timeline the promotion created. */
  timeline: number;
  /** Timeline it forked from, whose acknowledged tail may be lost. */
  old_timeline: number;
  fork_lsn: string;
  /** Highest LSN acknowledged on the old timeline; null when no write there carried one. */
  max_acked_lsn: string | null;
  loss_bytes: number;
}

export interface WalLossCheck {
  wal_loss_bytes: number;
  per_promotion: WalLossDetail[];
  problems: string[];
}

/** Promotions without a fork LSN (e.g. seen only by samples) cannot be measured and are skipped. */
export function measureWalLoss(
  promotions: readonly Promotion[],
  history: readonly WriteOperation[],
): WalLossCheck {
  const problems: string[] = [];
  const maxAckedByTimeline = new Map<number, bigint>();
  for (const op of history) {
    if (op.outcome !== "ok" || op.timeline === null || op.lsn === null) continue;
    let lsn: bigint;
    try {
      lsn = parseLsn(op.lsn);
    } catch {
      // Skipping it silently could hide a loss, so it becomes a problem that fails the verdict.
      problems.push(`write ${op.id} was acknowledged with malformed LSN ${JSON.stringify(op.lsn)}`);
      continue;
    }
    const known = maxAckedByTimeline.get(op.timeline);
    if (known === undefined || lsn > known) maxAckedByTimeline.set(op.timeline, lsn);
  }

  const perPromotion: WalLossDetail[] = [];
  for (const promotion of promotions) {
    if (promotion.fork_lsn === null) continue;
    let forkLsn: bigint;
    try {
      forkLsn = parseLsn(promotion.fork_lsn);
    } catch {
      problems.push(
        `promotion of ${promotion.member} to timeline ${promotion.timeline} has malformed fork LSN ${JSON.stringify(promotion.fork_lsn)}`,
      );
      continue;
    }
    const oldTimeline = promotion.timeline - 1;
    const maxAcked = maxAckedByTimeline.get(oldTimeline);
    perPromotion.push({
      member: promotion.member,
      timeline: promotion.timeline,
      old_timeline: oldTimeline,
      fork_lsn: promotion.fork_lsn,
      max_acked_lsn: maxAcked === undefined ? null : formatLsn(maxAcked),
      loss_bytes: maxAcked === undefined ? 0 : Math.max(0, lsnDiff(maxAcked, forkLsn)),
    });
  }
  return {
    wal_loss_bytes: perPromotion.reduce((sum, detail) => sum + detail.loss_bytes, 0),
    per_promotion: perPromotion,
    problems,
  };
}
