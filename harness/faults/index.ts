import type { z } from "zod";
import { freezeAgent, killAgent } from "./agent.ts";
import { clockSkew } from "./clock-skew.ts";
import { crashBackend } from "./crash-backend.ts";
import { crashPostgres } from "./crash-postgres.ts";
import { diskFull, ioFreeze } from "./disk.ts";
import type { Fault } from "./fault.ts";
import { freeze } from "./freeze.ts";
import { kill } from "./kill.ts";
import { bandwidth, latency, resetPeer, slowClose } from "./links.ts";
import { disconnect, pause } from "./native.ts";
import { packetLoss } from "./packet-loss.ts";
import { partition } from "./partition.ts";
import { promote } from "./promote.ts";
import { rollingRestart } from "./rolling-restart.ts";
import { stop } from "./stop.ts";
import { switchover } from "./switchover.ts";

/**
 * Every fault a scenario can name, one line each, in the order the `fault` key describes them.
 * Everything else — the names, the step schema's keys and rules, what has a heal, what the
 * nemesis may draw — is derived from these objects.
 */
const REGISTRY = [
  kill,
  stop,
  crashPostgres,
  freeze,
  partition,
  packetLoss,
  switchover,
  rollingRestart,
  promote,
  pause,
  disconnect,
  latency,
  bandwidth,
  resetPeer,
  slowClose,
  diskFull,
  ioFreeze,
  killAgent,
  freezeAgent,
  crashBackend,
  clockSkew,
] as const;

type Registered = (typeof REGISTRY)[number];
export type FaultName = Registered["name"];

/** The options a fault's step parsed to: what its inject takes. */
export type FaultOptions<Name extends FaultName = FaultName> = z.output<
  Extract<Registered, { name: Name }>["options"]
>;

/** Every fault's name, in the registry's order. */
export const FAULTS = REGISTRY.map((fault) => fault.name) as [FaultName, ...FaultName[]];

/** Every fault by its scenario name, as the common type (its options are what its own schema parsed). */
export const faults = Object.fromEntries(REGISTRY.map((fault) => [fault.name, fault])) as unknown as Record<
  FaultName,
  Fault
>;

/** Faults a nemesis may draw: those whose options a target alone (and the nemesis's settings) give. */
export const NEMESIS_FAULTS = REGISTRY.filter((fault) => fault.nemesis !== null).map(
  (fault) => fault.name,
) as [FaultName, ...FaultName[]];
