import type { Fault } from "./fault.ts";

const FILTER = "loss";

/** A share of every packet to and from the member dropped at random. */
export const packetLoss: Fault = {
  name: "packet-loss",
  stamp: "end",
  needs: ["firewall"],
  async inject(members, { backend }, { percent }) {
    for (const member of members) {
      await backend.member(member).blockTraffic(FILTER, { kind: "loss", percent: percent ?? 0 });
    }
    return {
      fault: "packet-loss",
      members,
      async heal() {
        for (const member of members) await backend.member(member).unblockTraffic(FILTER);
      },
    };
  },
};
