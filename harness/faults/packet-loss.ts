import { z } from "zod";
import { defineFault } from "./fault.ts";

const FILTER = "loss";

/** A share of every packet to and from the member dropped at random. */
export const packetLoss = defineFault({
  name: "packet-loss",
  summary: "packet-loss: random drops (percent)",
  stamp: "end",
  needs: ["firewall"],
  heals: true,
  options: z.object({
    percent: z.number().min(0).max(100).describe("packet-loss: share of packets dropped"),
  }),
  aim: "target",
  nemesis: (_target, { percent }) => ({ percent }),
  async inject(members, { backend }, { percent }) {
    for (const member of members) {
      await backend.member(member).blockTraffic(FILTER, { kind: "loss", percent });
    }
    return {
      members,
      async heal() {
        for (const member of members) await backend.member(member).unblockTraffic(FILTER);
      },
    };
  },
});
