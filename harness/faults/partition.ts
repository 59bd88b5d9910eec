import type { Fault } from "./fault.ts";
import { PARTITION_TABLE, dropRuleset, isolateRuleset } from "./nft.ts";

/**
 * Network partition with nftables inside the members' namespaces. `isolate`: the members lose
 * every peer and client. `between`: only traffic between two groups is cut — both ways, or one-way
 * (packets from the first group to the second dropped, replies still flow).
 */
export const partition: Fault = {
  name: "partition",
  stamp: "end",
  async inject(members, { backend, resolve }, { between, oneWay }) {
    const touched: string[] = [];
    if (!between) {
      for (const member of members) {
        await backend.applyFirewall(member, PARTITION_TABLE, isolateRuleset());
        touched.push(member);
      }
    } else {
      const addresses = (groups: string[]) =>
        groups.flatMap((group) =>
          group === "clients"
            ? [backend.harnessAddress]
            : resolve(group).map((member) => backend.address(member)),
        );
      const [sideA, sideB] = [between[0].flatMap(resolve), between[1].flatMap(resolve)];
      const [addressesA, addressesB] = [addresses(between[0]), addresses(between[1])];
      for (const member of new Set(sideA)) {
        // One-way: A may not send to B; it still hears from B.
        await backend.applyFirewall(
          member,
          PARTITION_TABLE,
          dropRuleset(PARTITION_TABLE, oneWay ? [] : addressesB, addressesB),
        );
        touched.push(member);
      }
      for (const member of new Set(sideB)) {
        if (touched.includes(member)) throw new Error(`partition: ${member} is on both sides`);
        await backend.applyFirewall(
          member,
          PARTITION_TABLE,
          dropRuleset(PARTITION_TABLE, addressesA, oneWay ? [] : addressesA),
        );
        touched.push(member);
      }
    }
    return {
      fault: "partition",
      members: touched,
      async heal() {
        for (const member of touched) await backend.removeFirewall(member, PARTITION_TABLE);
      },
    };
  },
};
