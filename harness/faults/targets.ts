import type { Member } from "../run/record.ts";
import type { ClusterStatus } from "../topology/topology.ts";

/**
 * Resolves a scenario target against the cluster as it is at the moment the step fires:
 * "primary" is whoever the HA manager says leads now, not who led at the start.
 */
export function resolveTarget(target: string, status: ClusterStatus, members: Member[]): string[] {
  const names = members.map((m) => m.name);
  if (target.startsWith("node:")) {
    const name = target.slice("node:".length);
    if (!names.includes(name)) throw new Error(`target ${target}: no such member`);
    return [name];
  }
  const pick = (found: string | null | undefined, what: string): string[] => {
    if (!found) throw new Error(`target ${target}: the cluster has no ${what} right now (${status.detail})`);
    return [found];
  };
  switch (target) {
    case "primary":
      return pick(status.primary, "primary");
    case "sync_standby":
      return pick(status.syncStandbys[0], "synchronous standby");
    case "replica":
      return pick([...status.replicas].sort()[0], "replica");
    case "monitor":
    case "witness":
      return pick(members.find((m) => m.kind === target)?.name, target);
    default:
      throw new Error(`unknown target ${target}`);
  }
}
