import type { Random } from "../common/random.ts";
import type { ClusterStatus } from "../model/cluster.ts";
import type { Member } from "../model/record.ts";

/**
 * Resolves a scenario target against the cluster as it is at the moment the step fires:
 * "primary" is whoever the HA manager says leads now, not who led at the start.
 */
export function resolveTarget(
  target: string,
  status: ClusterStatus,
  members: Member[],
  random?: Random,
): string[] {
  const names = members.map((m) => m.name);
  if (target.startsWith("node:")) {
    const name = target.slice("node:".length);
    if (!names.includes(name)) throw new Error(`target ${target}: no such member`);
    return [name];
  }
  const pick = (found: string | null | undefined, what: string): string[] =>
    pickAll(found ? [found] : [], what);
  const pickAll = (found: string[], what: string): string[] => {
    if (found.length === 0) {
      throw new Error(`target ${target}: the cluster has no ${what} right now (${status.detail})`);
    }
    return found;
  };
  const ofKind = (kind: Member["kind"]) => members.filter((m) => m.kind === kind).map((m) => m.name);
  switch (target) {
    case "primary":
      return pick(status.primary, "primary");
    case "sync_standby":
      return pick(status.syncStandbys[0], "synchronous standby");
    case "replica": {
      // Which replica is a random choice from the run's seed; without one, the first by name.
      const replicas = [...status.replicas].sort();
      return pick(random ? random.pick(replicas) : replicas[0], "replica");
    }
    case "replicas":
      return pickAll([...status.replicas].sort(), "replicas");
    case "async_replicas":
      return pickAll(
        status.replicas.filter((r) => !status.syncStandbys.includes(r)).sort(),
        "asynchronous replica",
      );
    case "monitor":
    case "witness":
    case "entrypoint":
      return pickAll(ofKind(target), target);
    case "dcs":
      return pickAll(ofKind("dcs"), "DCS");
    case "dcs_majority": {
      // The smallest set whose loss leaves the consensus store without quorum.
      const dcs = ofKind("dcs");
      return pickAll(dcs.slice(0, Math.floor(dcs.length / 2) + 1), "DCS");
    }
    default:
      throw new Error(`unknown target ${target}`);
  }
}
