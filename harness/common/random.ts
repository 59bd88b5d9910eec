import { createHash } from "node:crypto";

/**
 * Every random choice a run makes (which replica, how long a jittered sleep lasts) comes from one
 * seeded generator, so a failing repeat replays exactly with `--seed S --only <run>`.
 */
export class Random {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** mulberry32: tiny, fast and good enough to pick members and delays (not for secrets). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, bound). */
  below(bound: number): number {
    return Math.floor(this.next() * bound);
  }

  pick<T>(items: readonly T[]): T | undefined {
    return items.length === 0 ? undefined : items[this.below(items.length)];
  }
}

/**
 * A run's own seed from the plan's seed and the run's key: it depends on nothing else, so the run
 * draws the same choices whether it runs alone (--only), in a shard, or after a resume.
 */
export function deriveSeed(planSeed: number, runKey: string): number {
  return createHash("sha256").update(`${planSeed}:${runKey}`).digest().readUInt32BE(0);
}

/** A fresh plan seed when the user gave none; printed so the plan can be replayed. */
export function newSeed(): number {
  return createHash("sha256").update(`${process.hrtime.bigint()}:${process.pid}`).digest().readUInt32BE(0);
}
