import type { Backend } from "../backend/backend.ts";
import type { Topology } from "../topology/topology.ts";

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
  heal(): Promise<void>;
}

/** A nemesis: injects itself into resolved members and returns how to heal. */
export interface Fault {
  readonly name: string;
  inject(members: string[], context: FaultContext): Promise<Omit<ActiveFault, "target">>;
}
