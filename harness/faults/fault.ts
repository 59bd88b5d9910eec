import type { z } from "zod";
import type { Capability, StartedBackend } from "../backend/backend.ts";
import type { StartMode } from "../model/cluster.ts";
import type { Sample } from "../observe/roles.ts";
import type { Topology } from "../topology/topology.ts";

/** What a fault may touch: only the backend and the topology, never a concrete transport. */
export interface FaultContext {
  backend: StartedBackend;
  topology: Topology;
  /** Members of a group ("primary", "replicas", "dcs", …) as the cluster is right now; [] for "clients". */
  resolve: (group: string) => string[];
}

/** What an injection did, for the run and its timeline. */
export interface Injected {
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
}

/** An injection that is in force until undone. */
export interface Healable extends Injected {
  heal(mode: StartMode): Promise<void>;
}

/** A fault in force during a run, under the name and target it was injected with. */
export interface ActiveFault extends Healable {
  fault: string;
  target: string;
}

/** The two sides of a fault on links, each a list of member groups ("clients" included). */
export type Sides = [string[], string[]];

/** Where a step lands: the members of a target (as written: "primary + sync_standby"), or the links between two sides. */
export type Aimed = { target: string; between: null } | { target: null; between: Sides };

/** The nemesis step's own settings a drawn fault may take its options from. */
export interface NemesisSettings {
  /** packet-loss: share of packets dropped. */
  percent: number;
}

/** A fault's options: a zod object of the step keys it owns (checked, described and parsed by it alone). */
export type OptionsSchema = z.ZodObject;

interface FaultSpec<Name extends string, Options extends OptionsSchema> {
  /** The scenario's name for it (`fault: <name>`). */
  readonly name: Name;
  /** One line for the `fault` key's description (editor completion): what it does, and its heal. */
  readonly summary: string;
  /**
   * When the fault counts as begun on the timeline: "end" once injection returns (a signal has
   * landed), "start" when it was requested (a switchover's own duration is part of the outage).
   */
  readonly stamp: "start" | "end";
  /** What the backend must be able to do; a backend without it makes the scenario invalid. */
  readonly needs: readonly Capability[];
  /**
   * The step keys it owns, as a zod object: each with its type and description, required unless
   * optional; rules across its own keys in a superRefine (an issue at its root lands on `fault`).
   * Another fault's key on its step is refused, as is a missing required one.
   */
  readonly options: Options;
  /**
   * Where a step lands: "target" — the members its `target` names; otherwise its own option keys
   * say (`keys`, refused beside a target), read from its parsed options by `at`.
   */
  readonly aim: "target" | { readonly keys: readonly string[]; at(options: z.output<Options>): Aimed };
  /** Member groups its options name besides where it lands (switchover's `to`), checked against the cluster. */
  readonly names?: (options: z.output<Options>) => [key: string, group: string][];
  /**
   * Whether a nemesis may draw it, and its options then: from the target drawn and the nemesis's
   * own settings. null: only an explicit step says enough (two sides of a link, an offset).
   */
  readonly nemesis: ((target: string, settings: NemesisSettings) => z.output<Options>) | null;
}

/** A fault undone by its heal (undo a signal, a filter, a file). */
export interface HealingFault<Name extends string = string, Options extends OptionsSchema = OptionsSchema>
  extends FaultSpec<Name, Options> {
  readonly heals: true;
  inject(members: string[], context: FaultContext, options: z.output<Options>): Promise<Healable>;
}

/**
 * A procedure: over when inject returns, nothing to undo (a switchover, a rolling restart, a
 * crashed backend the postmaster recovers from). A step cannot give it a duration, a nemesis
 * gives it none, and a heal step only puts it on the timeline as healed.
 */
export interface Procedure<Name extends string = string, Options extends OptionsSchema = OptionsSchema>
  extends FaultSpec<Name, Options> {
  readonly heals: false;
  inject(members: string[], context: FaultContext, options: z.output<Options>): Promise<Injected>;
}

/** A nemesis: injects itself into resolved members, and says how (if at all) it heals. */
export type Fault<Name extends string = string, Options extends OptionsSchema = OptionsSchema> =
  | HealingFault<Name, Options>
  | Procedure<Name, Options>;

/** A fault, its name and options kept as written: what the registry and the step schema are derived from. */
export function defineFault<const Name extends string, Options extends OptionsSchema>(
  fault: Fault<Name, Options>,
): Fault<Name, Options> {
  return fault;
}

/** Capabilities that change the network: a fault needing one is undone first by a heal of everything. */
export const NETWORK_CAPABILITIES: readonly Capability[] = ["firewall", "proxy", "shaping"];
