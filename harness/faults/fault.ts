import type { Capability, StartedBackend } from "../backend/backend.ts";
import type { Sample } from "../observe/roles.ts";
import type { StartMode, Topology } from "../topology/topology.ts";

/** What a fault may touch: only the backend and the topology, never a concrete transport. */
export interface FaultContext {
  backend: StartedBackend;
  topology: Topology;
  /** Members of a group ("primary", "replicas", "dcs", …) as the cluster is right now; [] for "clients". */
  resolve: (group: string) => string[];
}

/** A fault that has been injected and can be undone. */
export interface ActiveFault {
  fault: string;
  target: string;
  members: string[];
  /** Something that went wrong while injecting, though the fault is in force and still needs its heal. */
  problem?: string;
  /** What the fault did, for the timeline (which processes it signalled, what it left running). */
  detail?: string;
  /** Role readings the fault took from outside while injecting, for the role sampler's timeline. */
  observed?: {
    member: string;
    sample: Sample /** process.hrtime.bigint() when it was read */;
    atMono: bigint;
  }[];
  heal(mode: StartMode): Promise<void>;
}

export interface FaultOptions {
  /** switchover: the member to promote; null lets the HA manager choose. */
  to: string | null;
  /** packet-loss: share of packets dropped, 0–100. */
  percent: number | null;
  /** partition between two groups of member groups (tokens as in the scenario, "clients" included). */
  between: [string[], string[]] | null;
  /** partition between: drop only packets from the first group to the second. */
  oneWay: boolean;
  /** rolling-restart: PostgreSQL parameters each member gets as it restarts. */
  settings: Record<string, string> | null;
  /** latency: round-trip time added to each link, and how much it varies (± jitterMs). */
  delayMs: number | null;
  jitterMs: number | null;
  /** bandwidth: each link's rate limit. */
  kbps: number | null;
  /** clock-skew: how far the HA agent's clock moves, signed. */
  offsetMs: number | null;
}

/** A nemesis: injects itself into resolved members and returns how to heal. */
export interface Fault {
  readonly name: string;
  /**
   * When the fault counts as begun on the timeline: "end" once injection returns (a signal has
   * landed), "start" when it was requested (a switchover's own duration is part of the outage).
   */
  readonly stamp: "start" | "end";
  /** What the backend must be able to do; a backend without it makes the scenario invalid. */
  readonly needs: readonly Capability[];
  inject(
    members: string[],
    context: FaultContext,
    options: FaultOptions,
  ): Promise<Omit<ActiveFault, "target">>;
}
