import { type TopologyName, isTopologyName } from "../model/scenario.ts";
import type { HaRules } from "../verify/bound.ts";
import type { HaManager } from "./ha-manager.ts";
import { patroniK8sManager, patroniManager } from "./patroni/manager.ts";
import { pgAutoFailoverManager } from "./pg-auto-failover/manager.ts";
import { repmgrManager } from "./repmgr/manager.ts";

export type { HaManager, Need } from "./ha-manager.ts";

/**
 * Every HA manager a scenario can name, one line each: `satisfies` a Record over TOPOLOGIES, so a
 * new name without its entry (or an entry with a piece missing) does not compile, while each
 * entry keeps its own settings schema's type for the scenario's schema.
 */
export const HA_MANAGERS = {
  patroni: patroniManager,
  "patroni-k8s": patroniK8sManager,
  pg_auto_failover: pgAutoFailoverManager,
  repmgr: repmgrManager,
} as const satisfies Record<TopologyName, HaManager>;

/** The rules verify applies to a record of this topology; null for a name this version does not know (an older record). */
export function haRulesOf(topology: string): HaRules | null {
  return isTopologyName(topology) ? HA_MANAGERS[topology].rules : null;
}
