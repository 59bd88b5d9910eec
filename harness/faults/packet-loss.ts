import type { Fault } from "./fault.ts";
import { LOSS_TABLE, lossRuleset } from "./nft.ts";

/** A share of every packet to and from the member dropped at random. */
export const packetLoss: Fault = {
  name: "packet-loss",
  stamp: "end",
  async inject(members, { backend }, { percent }) {
    for (const member of members) await backend.applyFirewall(member, LOSS_TABLE, lossRuleset(percent ?? 0));
    return {
      fault: "packet-loss",
      members,
      async heal() {
        for (const member of members) await backend.removeFirewall(member, LOSS_TABLE);
      },
    };
  },
};
