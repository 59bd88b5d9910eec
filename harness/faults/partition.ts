import { z } from "zod";
import type { TrafficRule } from "../backend/backend.ts";
import { defineFault } from "./fault.ts";
import { direction, memberGroup, sides } from "./options.ts";

const FILTER = "partition";

const options = z
  .object({
    isolate: memberGroup
      .optional()
      .describe("partition: cut these members off from everything, clients included"),
    between: sides
      .optional()
      .describe("partition: cut traffic between two groups only, e.g. [[primary], [replicas, dcs]]"),
    direction: direction.describe(
      "partition between: one-way drops only packets from the first group to the second",
    ),
  })
  .superRefine((value, ctx) => {
    if ((value.isolate === undefined) === (value.between === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: [],
        message: "a partition needs exactly one of isolate, between",
      });
    }
    if (value.direction !== undefined && value.between === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["direction"],
        message: "direction belongs to a step with between",
      });
    }
  });

/**
 * Network partition with packet filters inside the members' own network stacks. `isolate`: the
 * members lose every peer and client. `between`: only traffic between two groups is cut — both
 * ways, or one-way (packets from the first group to the second dropped, replies still flow).
 */
export const partition = defineFault({
  name: "partition",
  summary: "partition: nftables drops (isolate or between)",
  stamp: "end",
  needs: ["firewall"],
  heals: true,
  options,
  aim: {
    keys: ["isolate", "between"],
    at: ({ isolate, between }: z.output<typeof options>) =>
      between ? { target: null, between } : { target: isolate ?? "", between: null },
  },
  // The nemesis draws a target alone: it isolates it.
  nemesis: (target) => ({ isolate: target }),
  async inject(members, { backend, resolve }, { between, direction }) {
    const oneWay = direction === "one-way";
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
      members: touched,
      async heal() {
        for (const member of touched) await backend.member(member).unblockTraffic(FILTER);
      },
    };
  },
});
