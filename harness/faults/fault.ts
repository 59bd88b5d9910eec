import type { Capability, StartedBackend } from "../backend/backend.ts";
import type { StartMode } from "../model/cluster.ts";
import type { FaultOptions } from "../model/scenario.ts";
import type { Sample } from "../observe/roles.ts";
import type { Topology } from "../topology/topology.ts";

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
