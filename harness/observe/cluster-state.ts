import type { RunClock } from "../common/clock.ts";
import type { ClusterStatus } from "../model/cluster.ts";
import type { TimelineEvent } from "../model/timeline.ts";
import { Cadence } from "../workload/cadence.ts";

const POLL_EVERY_MS = 500;

/**
 * The cluster's HA state as its HA manager reports it, over time (as DSM shows it):
 * complete (a primary and every replica streaming), incomplete (a primary, fewer replicas than
 * configured), no primary, or unknown because the HA manager itself did not answer. Only changes
 * go on the timeline.
 */
export function summarizeState(status: ClusterStatus): string {
  if (!status.reachable) return "HA manager unreachable";
  if (!status.primary) return "no primary";
  return `${status.healthy ? "complete" : "incomplete"} (primary ${status.primary})`;
}

export class ClusterStateSampler {
  private running = false;
  private loop: Promise<void> | undefined;
  private last: string | undefined;

  constructor(
    private readonly source: string,
    private readonly status: () => Promise<ClusterStatus>,
    private readonly clock: RunClock,
    private readonly emit: (event: TimelineEvent) => void,
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.poll();
  }

  /** Stops polling after one last reading, so the state the run ended in is on the timeline. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.sample();
  }

  private async poll(): Promise<void> {
    const cadence = new Cadence(POLL_EVERY_MS);
    while (this.running) {
      await this.sample();
      await cadence.next();
    }
  }

  private async sample(): Promise<void> {
    const summary = summarizeState(await this.status());
    if (summary === this.last) return;
    this.emit({ at_ns: this.clock.nowNs(), kind: "ha", source: this.source, member: null, text: summary });
    this.last = summary;
  }
}
