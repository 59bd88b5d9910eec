import type { Fault } from "./fault.ts";
import { kill } from "./kill.ts";
import { switchover } from "./switchover.ts";

/** Every fault a scenario can name, by its scenario name. */
export const faults: Record<string, Fault> = { kill, switchover };
