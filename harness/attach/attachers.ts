import type { TopologyName } from "../model/scenario.ts";
import type { Attacher, AttacherRegistry } from "./attachment.ts";
import { attachPatroni } from "./patroni.ts";
import { attachPgAutoFailover } from "./pg-auto-failover.ts";
import { attachRepmgr } from "./repmgr.ts";

/** One attach deployment per HA manager; null: not supported yet (refused at validation). */
export const ATTACHERS: AttacherRegistry = {
  patroni: attachPatroni,
  // The HA client reads a PGO cluster already (PatroniKubernetes); a cluster file for it does not exist yet.
  "patroni-k8s": null,
  pg_auto_failover: attachPgAutoFailover,
  repmgr: attachRepmgr,
};

export function attacherFor(ha: TopologyName): Attacher | null {
  return ATTACHERS[ha];
}
