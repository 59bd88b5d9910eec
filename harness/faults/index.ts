import type { FaultName } from "../model/scenario.ts";
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

/** Every fault a scenario can name, by its scenario name. */
export const faults: Record<FaultName, Fault> = {
  kill,
  stop,
  "crash-postgres": crashPostgres,
  freeze,
  partition,
  "packet-loss": packetLoss,
  switchover,
  promote,
  "rolling-restart": rollingRestart,
  pause,
  disconnect,
  "disk-full": diskFull,
  "io-freeze": ioFreeze,
  "kill-agent": killAgent,
  "freeze-agent": freezeAgent,
  "crash-backend": crashBackend,
  "clock-skew": clockSkew,
  latency,
  bandwidth,
  "reset-peer": resetPeer,
  "slow-close": slowClose,
};
