import { z } from "zod";
import type { NativeFaults } from "../backend/backend.ts";
import { type FaultContext, defineFault } from "./fault.ts";

function nativeOf(member: string, { backend }: FaultContext): NativeFaults {
  const native = backend.member(member).native;
  // Validation refuses these faults on a backend without them; this is the last line of defence.
  if (!native) throw new Error(`the ${backend.kind} backend has no native faults for ${member}`);
  return native;
}

/**
 * Docker's pause: the cgroup freezer stops every process of the member at once, the harness's
 * own helpers on it included — unlike freeze, which SIGSTOPs only the system under test.
 */
export const pause = defineFault({
  name: "pause",
  summary: "pause (docker): the cgroup freezer on the whole member",
  stamp: "end",
  needs: ["pause"],
  heals: true,
  options: z.object({}),
  aim: "target",
  nemesis: () => ({}),
  async inject(members, context) {
    for (const member of members) await nativeOf(member, context).pause();
    return {
      members,
      async heal() {
        for (const member of members) await nativeOf(member, context).unpause();
      },
    };
  },
});

/**
 * Docker's network disconnect: the member loses its interface on the run's network (peers see
 * connection errors, not silence as with a partition's dropped packets); heal reconnects it at its old address.
 */
export const disconnect = defineFault({
  name: "disconnect",
  summary: "disconnect (docker): the member taken off the network",
  stamp: "end",
  needs: ["disconnect"],
  heals: true,
  options: z.object({}),
  aim: "target",
  nemesis: () => ({}),
  async inject(members, context) {
    for (const member of members) await nativeOf(member, context).disconnect();
    return {
      members,
      async heal() {
        for (const member of members) await nativeOf(member, context).reconnect();
      },
    };
  },
});
