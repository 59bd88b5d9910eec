import { type RunClock, sleep } from "../common/clock.ts";
import type { ClusterStatus } from "../topology/topology.ts";
import type { TimelineEvent } from "./timeline.ts";

const POLL_EVERY_MS = 500;

/**
 * The cluster's HA state as its HA manager reports it, over time (as DSM shows it):
 * complete (a primary and every replica streaming), incomplete (a primary, fewer replicas than
 * configured), or no primary. Only changes go on the timeline.
 */
export function summarizeState(status: ClusterStatus): string {
  if (!status.primary) return "no primary";
  return `${status.healthy ? "complete" : "incomplete"} (primary ${status.primary})`;
}

export class ClusterStateSampler {
  private running = false;
  private loop: Promise<void> | undefined;

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

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async poll(): Promise<void> {
    let last: string | undefined;
    while (this.running) {
      const started = performance.now();
      const summary = summarizeState(await this.status());
      if (summary !== last) {
        this.emit({ at_ns: this.clock.nowNs(), kind: "ha", source: this.source, member: null, text: summary });
        last = summary;
      }
      const rest = POLL_EVERY_MS - (performance.now() - started);
      if (rest > 0) await sleep(rest);
    }
  }
}
