import type { Backend } from "../backend/backend.ts";
import type { StartMode, Topology } from "../topology/topology.ts";

/** What a fault may touch: only the backend and the topology, never a concrete transport. */
export interface FaultContext {
  backend: Backend;
  topology: Topology;
}

/** A fault that has been injected and can be undone. */
export interface ActiveFault {
  fault: string;
  target: string;
  members: string[];
  heal(mode: StartMode): Promise<void>;
}

export interface FaultOptions {
  /** switchover: the member to promote; null lets the HA manager choose. */
  to: string | null;
}

/** A nemesis: injects itself into resolved members and returns how to heal. */
export interface Fault {
  readonly name: string;
  /**
   * When the fault counts as begun on the timeline: "end" once injection returns (a signal has
   * landed), "start" when it was requested (a switchover's own duration is part of the outage).
   */
  readonly stamp: "start" | "end";
  inject(
    members: string[],
    context: FaultContext,
    options: FaultOptions,
  ): Promise<Omit<ActiveFault, "target">>;
}
