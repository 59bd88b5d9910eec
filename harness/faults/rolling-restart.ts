import { z } from "zod";
import { pollUntil } from "../common/clock.ts";
import { type Parameters, currentSettings } from "../topology/sql.ts";
import type { Topology } from "../topology/topology.ts";
import { defineFault } from "./fault.ts";

const STREAMING_TIMEOUT_MS = 120_000;

/** Parameter values as PostgreSQL reads them from a config file: YAML booleans become on/off. */
function parameterText(settings: Record<string, string | number | boolean>): Parameters {
  return Object.fromEntries(
    Object.entries(settings).map(([name, value]) => [
      name,
      typeof value === "boolean" ? (value ? "on" : "off") : String(value),
    ]),
  );
}

async function untilHealthy(topology: Topology, after: string): Promise<void> {
  const healthy = await pollUntil(
    async () => ((await topology.status()).healthy ? true : undefined),
    STREAMING_TIMEOUT_MS,
  );
  if (!healthy) throw new Error(`rolling-restart: not streaming again within 120s after ${after}`);
}

/** Spelling PostgreSQL accepts in several ways (ON, true, 1; 256 MB): compared in one form. */
function normalized(value: string): string {
  const text = value.trim().toLowerCase().replaceAll(" ", "");
  if (["on", "true", "yes", "1"].includes(text)) return "on";
  if (["off", "false", "no", "0"].includes(text)) return "off";
  return text;
}

/** Each parameter the member does not run with after its restart, as "name=actual (wanted value)". */
async function notApplied(topology: Topology, member: string, wanted: Parameters): Promise<string[]> {
  const actual = await currentSettings(topology.endpoint(member), Object.keys(wanted));
  return Object.entries(wanted)
    .filter(([name, value]) => normalized(actual[name] ?? "") !== normalized(value))
    .map(([name, value]) => `${member} runs ${name}=${actual[name]} (wanted ${value})`);
}

/**
 * Crunchy PGO's rolling update: each replica restarted in turn (clean stop, start, wait until it
 * streams again), then a switchover to a replica, then the old primary restarted as a replica.
 * With `settings`, each member gets them just before its restart, the HA manager's way, and runs
 * with them afterwards — or the step reports which member does not.
 * It is a maintenance procedure, not a fault to undo: it is complete when inject returns.
 */
export const rollingRestart = defineFault({
  name: "rolling-restart",
  summary:
    "rolling-restart: every replica restarted in turn, a switchover, then the old primary restarted (PGO's rolling update)",
  stamp: "start",
  needs: ["signals"],
  heals: false,
  options: z.object({
    settings: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
      .superRefine((settings, ctx) => {
        for (const name of Object.keys(settings).filter((key) => !/^[a-z_][a-z0-9_.]*$/.test(key))) {
          ctx.addIssue({ code: "custom", path: [name], message: "is not a PostgreSQL parameter name" });
        }
      })
      .transform(parameterText)
      .optional()
      .describe(
        "rolling-restart: PostgreSQL parameters each member gets as it restarts (e.g. { shared_buffers: 256MB }); checked on every member afterwards",
      ),
  }),
  aim: "target",
  nemesis: null,
  async inject(_members, { topology }, { settings }) {
    const start = await topology.status();
    const oldPrimary = start.primary;
    if (!oldPrimary) throw new Error("rolling-restart: no primary to start from");
    const restart = async (member: string, after: string) => {
      if (settings) await topology.configure(member, settings);
      await topology.stopMember(member);
      await topology.startMember(member, "repair");
      await untilHealthy(topology, after);
    };
    for (const replica of [...start.replicas].sort()) await restart(replica, `restarting ${replica}`);
    await topology.switchover(null);
    await untilHealthy(topology, "the switchover");
    await restart(oldPrimary, `restarting the old primary ${oldPrimary}`);
    const members = [...start.replicas, oldPrimary];
    const missing: string[] = [];
    if (settings)
      for (const member of members) missing.push(...(await notApplied(topology, member, settings)));
    return {
      members,
      ...(missing.length > 0
        ? { problem: `rolling-restart: settings not in force: ${missing.join("; ")}` }
        : {}),
    };
  },
});
