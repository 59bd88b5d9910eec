import { z } from "zod";
import { defineFault } from "./fault.ts";

/** The HA manager's own planned switchover (patroni REST /switchover, pg_autoctl perform switchover). */
export const switchover = defineFault({
  name: "switchover",
  summary: "switchover: the HA manager's planned switchover",
  stamp: "start",
  needs: [],
  // A completed switchover leaves nothing to undo.
  heals: false,
  options: z.object({
    to: z
      .string()
      .regex(/^node:[a-z0-9_-]+$/, { message: "must be node:<name>" })
      .transform((node) => node.slice("node:".length))
      .optional()
      .describe("switchover only: the node to promote; default: the HA manager chooses"),
  }),
  aim: "target",
  names: ({ to }) => (to === undefined ? [] : [["to", `node:${to}`]]),
  nemesis: () => ({}),
  async inject(members, { topology }, { to }) {
    await topology.switchover(to ?? null);
    return { members };
  },
});
