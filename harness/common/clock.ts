/** Monotonic time since a run started, so wall-clock jumps never distort RTO. */
export class RunClock {
  /**
   * CLOCK_MONOTONIC is one clock for every process on the machine, so a helper process in a
   * member's namespace that is handed this start stamps its events on the same time axis.
   */
  readonly startMono: bigint;
  /** Wall-clock milliseconds at the same instant, to place HA-manager timestamps on the run's time axis. */
  readonly startWallMs: number;

  constructor(start?: { mono: bigint; wallMs: number }) {
    this.startMono = start?.mono ?? process.hrtime.bigint();
    this.startWallMs = start?.wallMs ?? Date.now();
  }

  nowNs(): number {
    return Number(process.hrtime.bigint() - this.startMono);
  }

  /** Converts a wall-clock timestamp (ms since epoch) to run time in ns. */
  fromWallMs(wallMs: number): number {
    return Math.round((wallMs - this.startWallMs) * 1e6);
  }

  seconds(ns = this.nowNs()): string {
    return `${(ns / 1e9).toFixed(1)}s`;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` every `intervalMs` until it returns a value other than undefined, or the deadline passes. */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 200,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) return undefined;
    await sleep(intervalMs);
  }
}
