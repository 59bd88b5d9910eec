import { z } from "zod";
import { parseDuration } from "./duration.ts";

/**
 * `abort_if:` — Chaos Toolkit's steady-state hypothesis as a guard: once it no longer holds, every
 * fault is healed and the run stops, failed, saying why. Shared by scenarios and cluster files.
 */
export const abortRule = z
  .strictObject({
    write_gap: z
      .string()
      .refine((text) => /^>\s*\S+$/.test(text) && parseDuration(text.replace(/^>\s*/, "")) !== undefined, {
        message: 'write "> <duration>", e.g. "> 120s"',
      })
      .describe("No acknowledged write for longer than this (all writers together) stops the run"),
  })
  .describe(
    "Stops the run (healing everything first) when the steady state is lost for too long; on a cluster file it applies to every run attached to it",
  );

/** An abort rule as milliseconds; null without one. */
export function writeGapLimitMs(rule: z.output<typeof abortRule> | undefined): number | null {
  if (!rule) return null;
  return parseDuration(rule.write_gap.replace(/^>\s*/, "")) ?? null;
}
