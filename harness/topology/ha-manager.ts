import type { HaRules } from "../verify/bound.ts";
import type { TopologyKind } from "./topology.ts";

/**
 * One HA manager, as one folder (topology/<name>/) puts it together: every field required, so an
 * HA manager with a piece missing is a compile error, not a silent null in verify or the runner.
 * - kind: its deployment (members, create: the cluster and its HaClient);
 * - rules: the pure rules verify applies to its runs (RTO bound, phase reactions).
 */
export interface HaManager {
  kind: TopologyKind;
  rules: HaRules;
}
