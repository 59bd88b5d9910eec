import { z } from "zod";
import type { HaManager } from "../ha-manager.ts";
import { KEEPER_SETTINGS, MONITOR_SETTINGS, pgAutoFailover } from "./pg-auto-failover.ts";
import { pgAutoFailoverRules } from "./rules.ts";

const milliseconds = z.number().int().min(0);
const settings = z
  .strictObject({
    ...Object.fromEntries(MONITOR_SETTINGS.map((key) => [key, milliseconds.optional()])),
    ...Object.fromEntries(KEEPER_SETTINGS.map((key) => [key, z.number().int().min(0).optional()])),
    candidate_priority: z.number().int().min(0).max(100).optional(),
  } as Record<
    (typeof MONITOR_SETTINGS)[number] | (typeof KEEPER_SETTINGS)[number] | "candidate_priority",
    z.ZodOptional<z.ZodNumber>
  >)
  .describe(
    "Monitor GUCs pgautofailover.* (ms; health_check_max_retries is a count), keeper timeouts (s, pg_autoctl config set timeout.*), candidate_priority",
  );

export const pgAutoFailoverManager = {
  kind: pgAutoFailover,
  rules: pgAutoFailoverRules,
  settings: settings.optional(),
  targets: ["monitor"],
  needs: {
    member: [
      ["/usr/bin/pg_autoctl", "pg-auto-failover-cli postgresql-{v}-auto-failover"],
      ["{pg}/lib/pgautofailover.so", "postgresql-{v}-auto-failover"],
    ],
    builtHere: [],
    harness: [],
  },
} satisfies HaManager;
