import type { TopologyName } from "../model/scenario.ts";
import { patroni, patroniK8s } from "./patroni/patroni.ts";
import { pgAutoFailover } from "./pg-auto-failover/pg-auto-failover.ts";
import { repmgr } from "./repmgr/repmgr.ts";
import type { TopologyKind } from "./topology.ts";

/** Every HA manager a scenario can name. */
export const TOPOLOGY_KINDS: Record<TopologyName, TopologyKind> = {
  patroni,
  "patroni-k8s": patroniK8s,
  pg_auto_failover: pgAutoFailover,
  repmgr,
};
