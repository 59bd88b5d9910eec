import { type TopologyName, isTopologyName } from "../model/scenario.ts";
import type { HaRules } from "../verify/bound.ts";
import type { HaManager } from "./ha-manager.ts";
import { patroni, patroniK8s } from "./patroni/patroni.ts";
import { patroniRules } from "./patroni/rules.ts";
import { pgAutoFailover } from "./pg-auto-failover/pg-auto-failover.ts";
import { pgAutoFailoverRules } from "./pg-auto-failover/rules.ts";
import { repmgr } from "./repmgr/repmgr.ts";
import { repmgrRules } from "./repmgr/rules.ts";

export type { HaManager } from "./ha-manager.ts";

/** Every HA manager a scenario can name: a Record over TOPOLOGIES, so a new name without its entry does not compile. */
export const HA_MANAGERS: Record<TopologyName, HaManager> = {
  patroni: { kind: patroni, rules: patroniRules },
  // The same Patroni with the Kubernetes API as its DCS: the same rules.
  "patroni-k8s": { kind: patroniK8s, rules: patroniRules },
  pg_auto_failover: { kind: pgAutoFailover, rules: pgAutoFailoverRules },
  repmgr: { kind: repmgr, rules: repmgrRules },
};

/** The rules verify applies to a record of this topology; null for a name this version does not know (an older record). */
export function haRulesOf(topology: string): HaRules | null {
  return isTopologyName(topology) ? HA_MANAGERS[topology].rules : null;
}
