import { crashPostgres } from "./crash-postgres.ts";
import type { Fault } from "./fault.ts";
import { freeze } from "./freeze.ts";
import { kill } from "./kill.ts";
import { packetLoss } from "./packet-loss.ts";
import { partition } from "./partition.ts";
import { promote } from "./promote.ts";
import { rollingRestart } from "./rolling-restart.ts";
import { stop } from "./stop.ts";
import { switchover } from "./switchover.ts";

/** Every fault a scenario can name, by its scenario name. */
export const faults: Record<string, Fault> = {
  kill,
  stop,
  "crash-postgres": crashPostgres,
  freeze,
  partition,
  "packet-loss": packetLoss,
  switchover,
  promote,
  "rolling-restart": rollingRestart,
};
