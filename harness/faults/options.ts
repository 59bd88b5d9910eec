import { z } from "zod";
import { parseDuration } from "../common/duration.ts";

/**
 * The zod pieces faults' option schemas share with the scenario's: a duration, a member group,
 * the two sides of a link. Descriptions stay with the fault that uses them.
 */

/** Member groups a fault can target or a partition can separate; resolved when the step fires. */
export const GROUP = String.raw`primary|replica|replicas|sync_standby|async_replicas|dcs|dcs_majority|monitor|witness|entrypoint|node:[a-z0-9_-]+`;

export const duration = z.string().refine((text) => parseDuration(text) !== undefined, {
  message: "is not a duration (write e.g. 500ms, 3s, 2m)",
});

/** A duration as milliseconds, once checked. */
export function ms(text: string): number {
  const value = parseDuration(text);
  if (value === undefined) throw new Error(`unchecked duration ${text}`);
  return value;
}

/** A duration written in the scenario, parsed to milliseconds. */
export const durationMs = duration.transform(ms);

export const memberGroup = z.string().regex(new RegExp(`^(${GROUP})$`), {
  message:
    "must be primary, replica, replicas, sync_standby, async_replicas, dcs, dcs_majority, monitor, witness, entrypoint or node:<name>",
});

/** `between: [[…], […]]`: two sides, each a list of member groups or "clients" (the harness itself). */
export const sides = z
  .array(
    z
      .array(z.string().regex(new RegExp(`^(${GROUP}|clients)$`), { message: "is not a member group" }))
      .min(1),
  )
  .length(2)
  .transform((pair) => pair as [string[], string[]]);

/** `direction:` of a fault on links: both ways (the default), or only from the first side to the second. */
export const direction = z.enum(["both", "one-way"]).optional();

/** A between's label on the timeline: "between [primary] and [replicas, dcs]". */
export function betweenLabel([a, b]: [string[], string[]]): string {
  return `between [${a.join(", ")}] and [${b.join(", ")}]`;
}
