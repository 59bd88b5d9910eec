import type { NativeFaults } from "../backend/backend.ts";
import type { Fault, FaultContext } from "./fault.ts";

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
export const pause: Fault = {
  name: "pause",
  stamp: "end",
  needs: ["pause"],
  async inject(members, context) {
    for (const member of members) await nativeOf(member, context).pause();
    return {
      fault: "pause",
      members,
      async heal() {
        for (const member of members) await nativeOf(member, context).unpause();
      },
    };
  },
};

/**
 * Docker's network disconnect: the member loses its interface on the run's network (peers see
 * connection errors, not silence as with a partition's dropped packets); heal reconnects it at its old address.
 */
export const disconnect: Fault = {
  name: "disconnect",
  stamp: "end",
  needs: ["disconnect"],
  async inject(members, context) {
    for (const member of members) await nativeOf(member, context).disconnect();
    return {
      fault: "disconnect",
      members,
      async heal() {
        for (const member of members) await nativeOf(member, context).reconnect();
      },
    };
  },
};
