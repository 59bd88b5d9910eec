import { z } from "zod";
import type { HaManager } from "../ha-manager.ts";
import { type REPMGR_SETTINGS, repmgr } from "./repmgr.ts";
import { repmgrRules } from "./rules.ts";

const settings = z
  .strictObject({
    reconnect_attempts: z.number().int().min(1).optional(),
    reconnect_interval: z.number().int().min(1).optional(),
    monitor_interval_secs: z.number().int().min(1).optional(),
    priority: z.number().int().min(0).optional(),
    primary_visibility_consensus: z.boolean().optional(),
    standby_disconnect_on_failover: z.boolean().optional(),
    degraded_monitoring_timeout: z.number().int().optional(),
  } satisfies Record<(typeof REPMGR_SETTINGS)[number], z.ZodType>)
  .optional()
  .describe("repmgr.conf settings for repmgrd (seconds); defaults: 6 attempts × 10 s");

export const repmgrManager = {
  kind: repmgr,
  rules: repmgrRules,
  settings,
  targets: ["witness"],
  needs: {
    member: [
      ["/usr/bin/repmgr", "postgresql-{v}-repmgr"],
      ["/usr/bin/repmgrd", "postgresql-{v}-repmgr"],
      ["{pg}/lib/repmgr.so", "postgresql-{v}-repmgr"],
      // repmgr's switchover reaches the old primary over SSH: one sshd per member's host.
      ["/usr/sbin/sshd", "openssh-server"],
      ["/usr/bin/ssh", "openssh-client"],
    ],
    builtHere: [],
    // The harness makes the members' SSH keys.
    harness: [["/usr/bin/ssh-keygen", "openssh-client"]],
  },
} satisfies HaManager;
