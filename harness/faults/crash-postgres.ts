import { join } from "node:path";
import { z } from "zod";
import { sleep } from "../common/clock.ts";
import type { TopologyName } from "../model/scenario.ts";
import { type FaultContext, defineFault } from "./fault.ts";

/** PID of the member's running postmaster, from postmaster.pid; null when none runs. */
async function postmasterPid(member: string, { backend, topology }: FaultContext): Promise<number | null> {
  const host = backend.member(member);
  const result = await host.exec(["head", "-n", "1", join(topology.dataDir(member), "postmaster.pid")]);
  const pid = Number(result.stdout.trim());
  if (result.code !== 0 || !Number.isInteger(pid) || pid <= 0) return null;
  // A SIGKILLed postmaster leaves its pid file behind: only a live process of this member counts.
  // Both PIDs are the member's own numbering (postmaster.pid is written inside the member).
  return (await host.processes()).some((process) => process.pid === pid) ? pid : null;
}

/** HA agents that start again a PostgreSQL that died under them; repmgrd never does. */
const AGENT_RESTARTS_POSTGRES: Record<TopologyName, boolean> = {
  patroni: true,
  "patroni-k8s": true,
  pg_auto_failover: true,
  repmgr: false,
};

/**
 * How long a heal leaves a live agent to bring PostgreSQL back before an operator steps in. A
 * nemesis draws durations down to a few seconds, shorter than one Patroni loop plus crash recovery
 * or a pg_rewind: stopping the agent then interrupts the very recovery being measured (seen: a
 * Patroni stopped 2.3 s after the crash, before its loop had restarted PostgreSQL).
 */
export const AGENT_RECOVERY_GRACE_MS = 30_000;

export type CrashHealAction = "recovered" | "wait" | "restart";

/** What a crash-postgres heal does next for one member, from what it sees there now. */
export function crashHealAction(seen: {
  postmasterRunning: boolean;
  agentRunning: boolean;
  agentRestartsPostgres: boolean;
  waitedMs: number;
  graceMs: number;
}): CrashHealAction {
  if (seen.postmasterRunning) return "recovered";
  if (!seen.agentRunning || !seen.agentRestartsPostgres) return "restart";
  return seen.waitedMs < seen.graceMs ? "wait" : "restart";
}

async function agentRunning(member: string, { backend, topology }: FaultContext): Promise<boolean> {
  return (await backend.member(member).processes()).some((p) => topology.agentCommand.test(p.command));
}

/**
 * SIGKILL of the postmaster only; the HA agent stays and its own recovery is what is measured
 * (Patroni and pg_autoctl restart PostgreSQL; repmgrd does not, so repmgr fails over).
 */
export const crashPostgres = defineFault({
  name: "crash-postgres",
  summary: "crash-postgres: SIGKILL of the postmaster only",
  stamp: "end",
  needs: ["signals"],
  heals: true,
  options: z.object({}),
  aim: "target",
  nemesis: () => ({}),
  async inject(members, context) {
    for (const member of members) {
      const pid = await postmasterPid(member, context);
      if (pid === null) throw new Error(`crash-postgres: no postmaster running on ${member}`);
      await context.backend.member(member).signal(pid, "SIGKILL");
    }
    return {
      members,
      // The agent gets its chance first (AGENT_RECOVERY_GRACE_MS). What it did not bring back, an
      // operator restarts: agent and PostgreSQL together, so the agent starts from a known state
      // (repmgr: node rejoin).
      async heal(mode) {
        const problems: string[] = [];
        for (const member of members) {
          const started = Date.now();
          for (;;) {
            const action = crashHealAction({
              postmasterRunning: (await postmasterPid(member, context)) !== null,
              agentRunning: await agentRunning(member, context),
              agentRestartsPostgres: AGENT_RESTARTS_POSTGRES[context.topology.name as TopologyName] ?? false,
              waitedMs: Date.now() - started,
              graceMs: AGENT_RECOVERY_GRACE_MS,
            });
            if (action === "recovered") break;
            if (action === "wait") {
              await sleep(500);
              continue;
            }
            try {
              await context.topology.stopMember(member);
            } catch (error) {
              // The stop killed what was left: the member is still started again below, so a slow
              // stop is reported without leaving the member with neither agent nor PostgreSQL.
              problems.push((error as Error).message);
            }
            await context.topology.startMember(member, mode);
            break;
          }
        }
        if (problems.length > 0) throw new Error(problems.join("; "));
      },
    };
  },
});
