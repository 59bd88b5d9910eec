/**
 * Periodic loops (writers every 20 ms, role samples every 100 ms, HA status every 500 ms) keep their
 * period but wake on one shared time grid, so one timer wakes all of them at once. On a virtual
 * machine a wake-up from idle is what a light loop mostly costs (measured ~0.25 ms of CPU each on the
 * 2-core test VM): separate timers for each writer and each member cost several times that.
 */

const shared = new Map<number, Promise<void>>();

/**
 * Resolves at `at` (performance.now() time), rounded up to a whole millisecond; everyone due in the
 * same millisecond shares one timer.
 */
export function sleepUntil(at: number): Promise<void> {
  // A hair below, so that 3 × 33.33… lands on the same millisecond as 100.
  const due = Math.ceil(at - 1e-6);
  let wake = shared.get(due);
  if (!wake) {
    wake = new Promise((resolve) =>
      setTimeout(
        () => {
          shared.delete(due);
          resolve();
        },
        Math.max(0, due - performance.now()),
      ),
    );
    shared.set(due, wake);
  }
  return wake;
}

/**
 * A loop's slots every `periodMs` on the grid that starts at the process's time origin, so that
 * loops with commensurate periods are due together. A loop that overran its slot (a slow answer)
 * goes again at once, then rejoins the grid at the first slot at least half a period away: the gap
 * after an overrun averages one period, as it did before the grid, and it never bursts to catch up.
 */
export class Cadence {
  private nextAt: number;

  constructor(private readonly periodMs: number) {
    this.nextAt = this.slotAtOrBefore(performance.now());
  }

  /** Waits for the next slot; returns at once when it has passed already (or the period is 0). */
  async next(): Promise<void> {
    if (this.periodMs <= 0) return;
    this.nextAt += this.periodMs;
    const now = performance.now();
    if (this.nextAt > now) return sleepUntil(this.nextAt);
    const rejoin = Math.ceil((now + this.periodMs / 2) / this.periodMs) * this.periodMs;
    this.nextAt = rejoin - this.periodMs;
  }

  private slotAtOrBefore(ms: number): number {
    return this.periodMs > 0 ? Math.floor(ms / this.periodMs) * this.periodMs : ms;
  }
}
