import type { RunClock } from "../common/clock.ts";
import { Random } from "../common/random.ts";
import type { ReadOperation, WriteOperation } from "../model/history.ts";
import type { WriteKind } from "../model/scenario.ts";
import type { Route } from "./connection.ts";
import { KeyPool } from "./list-append.ts";
import { readerLoop } from "./readers.ts";
import { writerLoop } from "./writers.ts";

/** Clients that share a way into the cluster: its writers, the readers on its path and on its read-only path. */
export interface ClientGroup {
  name: string;
  writers: number;
  /** Writes per second per writer; 0 = as fast as possible. */
  rate: number;
  /** The writers' path (read-write), which primary readers take too. */
  route: Route;
  readers: { primary: number; replica: number; rate: number };
  /** The entry point's read-only path; null when it has none (then no replica readers). */
  replicaRoute: Route | null;
}

export interface WorkloadOptions {
  groups: ClientGroup[];
  write: WriteKind;
  /** Every writer of the run, helpers' too: each read asks how far it saw each of them. */
  writerNames: readonly string[];
  /** A request without an answer after this is abandoned and recorded as unknown. */
  timeoutMs: number;
  /** The member an address belongs to, to name the node that really served a request. */
  memberAt: (address: string) => string | undefined;
  clock: RunClock;
  seed: number;
  /** First ledger id; helper processes get their own range so ids stay unique across the run. */
  firstId?: number;
  /**
   * The groups that are ways into the cluster (entry points), when some run in helpers (the dns
   * entry point's); by default this workload's own groups.
   */
  paths?: readonly string[];
  /** Called with every completed operation (a helper process streams them to the harness). */
  onOperation?: (operation: WriteOperation) => void;
  onRead?: (read: ReadOperation) => void;
}

/** The writers' names of a group, as they appear in the history and in every read's heads. */
export function writerNames(group: string, writers: number): string[] {
  return Array.from({ length: writers }, (_, i) => `${group}/w${i + 1}`);
}

/** List-append keys of one process: helpers get their own, far from the harness's (ids are ranged the same way). */
const KEYS_PER_ID_RANGE = 1_000_000;
/** Ledger ids of one process: helper k writes from k × ID_RANGE, so ids never collide across processes. */
export const ID_RANGE = 1_000_000_000;

/**
 * The clients of a run: writers (ledger rows or list-append transactions) and readers, every
 * attempt recorded with what the client learned. One history per kind of operation.
 */
export class Workload {
  readonly history: WriteOperation[] = [];
  /** When the latest acknowledged write completed (run clock); 0 before the first. */
  lastAckNs = 0;
  readonly reads: ReadOperation[] = [];
  private nextId: number;
  private running = false;
  private markStopped: () => void = () => {};
  /** Resolves when stop() is called: connects still waiting on libpq are abandoned then. */
  private readonly stopped = new Promise<void>((resolve) => {
    this.markStopped = resolve;
  });
  private loops: Promise<void>[] = [];

  constructor(private readonly options: WorkloadOptions) {
    this.nextId = options.firstId ?? 1;
  }

  /** Adds a write to the history: this workload's own, or one a helper process streamed in. */
  record(operation: WriteOperation): void {
    this.history.push(operation);
    if (operation.outcome === "ok" && operation.complete_ns > this.lastAckNs)
      this.lastAckNs = operation.complete_ns;
    this.options.onOperation?.(operation);
  }

  recordRead(read: ReadOperation): void {
    this.reads.push(read);
    this.options.onRead?.(read);
  }

  start(): void {
    this.running = true;
    const { options } = this;
    const connect = {
      timeoutMs: options.timeoutMs,
      memberAt: options.memberAt,
      stopped: this.stopped,
      running: () => this.running,
    };
    const firstKey = Math.floor((options.firstId ?? 1) / ID_RANGE) * KEYS_PER_ID_RANGE;
    const { write } = options;
    // One pool for the process's writers, so a key is retired after its appends, not each writer's.
    const keys =
      write.kind === "list-append"
        ? new KeyPool(write.keys, write.appendsPerKey, firstKey, new Random(options.seed))
        : null;
    const writers = { clock: options.clock, connect, write, nextId: () => this.nextId++, keys };
    const readers = {
      clock: options.clock,
      connect,
      writers: options.writerNames,
      record: (r: ReadOperation) => this.recordRead(r),
    };
    this.loops = options.groups.flatMap((group) => [
      ...writerNames(group.name, group.writers).map((writer) =>
        writerLoop(
          { ...writers, record: (op) => this.record(op) },
          group.name,
          writer,
          group.route,
          group.rate,
        ),
      ),
      ...Array.from({ length: group.readers.primary }, (_, i) =>
        readerLoop(
          readers,
          group.name,
          "primary",
          `${group.name}/r${i + 1}`,
          group.route,
          group.readers.rate,
        ),
      ),
      ...(group.replicaRoute === null
        ? []
        : Array.from({ length: group.readers.replica }, (_, i) =>
            readerLoop(
              readers,
              group.name,
              "replica",
              `${group.name}/replica/r${i + 1}`,
              group.replicaRoute as Route,
              group.readers.rate,
            ),
          )),
    ]);
  }

  /** Stops issuing requests and waits for the ones in flight to resolve (bounded by the timeout). */
  async stop(): Promise<void> {
    this.running = false;
    this.markStopped();
    await Promise.all(this.loops);
  }

  /**
   * For each entry point's group, its first acknowledged write invoked at or after `ns`: the
   * data's own proof of writability, path by path. Placed groups are not paths: one beside an
   * isolated primary may never recover.
   */
  acksOnEachPathSince(ns: number): { acks: Map<string, WriteOperation>; missing: string[] } {
    const acks = new Map<string, WriteOperation>();
    const paths = this.options.paths ?? this.options.groups.map((group) => group.name);
    for (const op of this.history) {
      if (op.outcome === "ok" && op.invoke_ns >= ns && paths.includes(op.group) && !acks.has(op.group)) {
        acks.set(op.group, op);
      }
    }
    return { acks, missing: paths.filter((path) => !acks.has(path)) };
  }
}
