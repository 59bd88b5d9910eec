import type { TrafficRule } from "../backend/backend.ts";
import type { Fault } from "./fault.ts";

const FILTER = "partition";

/**
 * Network partition with packet filters inside the members' own network stacks. `isolate`: the
 * members lose every peer and client. `between`: only traffic between two groups is cut — both
 * ways, or one-way (packets from the first group to the second dropped, replies still flow).
 */
export const partition: Fault = {
  name: "partition",
  stamp: "end",
  needs: ["firewall"],
  async inject(members, { backend, resolve }, { between, oneWay }) {
    const rules = new Map<string, TrafficRule>();
    if (!between) {
      for (const member of members) rules.set(member, { kind: "isolate" });
    } else {
      const addresses = (groups: string[]) =>
        groups.flatMap((group) =>
          group === "clients"
            ? [backend.harnessAddress]
            : resolve(group).map((member) => backend.member(member).address),
        );
      const [addressesA, addressesB] = [addresses(between[0]), addresses(between[1])];
      // One-way: A may not send to B; it still hears from B.
      for (const member of new Set(between[0].flatMap(resolve))) {
        rules.set(member, { kind: "drop", from: oneWay ? [] : addressesB, to: addressesB });
      }
      for (const member of new Set(between[1].flatMap(resolve))) {
        if (rules.has(member)) throw new Error(`partition: ${member} is on both sides`);
        rules.set(member, { kind: "drop", from: addressesA, to: oneWay ? [] : addressesA });
      }
    }
    const touched: string[] = [];
    for (const [member, rule] of rules) {
      await backend.member(member).blockTraffic(FILTER, rule);
      touched.push(member);
    }
    return {
      fault: "partition",
      members: touched,
      async heal() {
        for (const member of touched) await backend.member(member).unblockTraffic(FILTER);
      },
    };
  },
};
