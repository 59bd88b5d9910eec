import { z } from "zod";
import { pollUntil } from "../common/clock.ts";
import { clockOffsetFile, faketimeOffset } from "../topology/clock.ts";
import { POSTGRES_USER } from "../topology/members.ts";
import { type FaultContext, defineFault } from "./fault.ts";
import { ms } from "./options.ts";

async function setOffset(members: string[], { backend }: FaultContext, offsetMs: number): Promise<void> {
  for (const member of members) {
    const host = backend.member(member);
    await host.writeFile(clockOffsetFile(host), `${faketimeOffset(offsetMs)}\n`, { mode: 0o644 });
  }
}

/** An agent process running under libfaketime, with the preload's part of its environment. */
interface SkewedAgent {
  pid: number;
  faketimeEnv: string[];
}

/** The member's agent processes that run under libfaketime, by the preload in their environment. */
async function skewedAgents(member: string, { backend, topology }: FaultContext): Promise<SkewedAgent[]> {
  const host = backend.member(member);
  const agents = (await host.processes()).filter((p) => topology.agentCommand.test(p.command));
  const skewed: SkewedAgent[] = [];
  for (const { pid } of agents) {
    // As the agent's own user: a container's root has no CAP_SYS_PTRACE, which another user's environ needs.
    const environ = (await host.exec(["cat", `/proc/${pid}/environ`], { user: POSTGRES_USER })).stdout.split(
      "\0",
    );
    const faketimeEnv = environ.filter((e) => e.startsWith("LD_PRELOAD=") || e.startsWith("FAKETIME_"));
    if (faketimeEnv.some((entry) => entry.startsWith("FAKETIME_TIMESTAMP_FILE=")))
      skewed.push({ pid, faketimeEnv });
  }
  return skewed;
}

/** How long libfaketime may take to reread the offset file (FAKETIME_CACHE_DURATION=1), with slack. */
const REREAD_WITHIN_MS = 4_000;

/**
 * The clock an agent now sees, minus the member's real one, in seconds: `date` run as postgres with
 * exactly the agent's libfaketime environment (its shared clock too, so nothing new lands in /dev/shm).
 */
async function seenOffset(context: FaultContext, member: string, agent: SkewedAgent): Promise<number> {
  const host = context.backend.member(member);
  const result = await host.exec(
    [
      "sh",
      "-c",
      'real=$(date +%s); skewed=$(env "$@" date +%s); echo $((skewed - real))',
      "sh",
      ...agent.faketimeEnv,
    ],
    { user: POSTGRES_USER },
  );
  const seconds = Number(result.stdout.trim());
  if (result.code !== 0 || result.stdout.trim() === "" || !Number.isFinite(seconds)) {
    throw new Error(`clock-skew: cannot read ${member}'s skewed clock: ${result.stderr.trim()}`);
  }
  return seconds;
}

/** Polls until the agent's clock reads the asked offset (±2 s), or throws naming what it read. */
async function confirmOffset(context: FaultContext, member: string, agent: SkewedAgent, offsetMs: number) {
  const wanted = Math.round(offsetMs / 1000);
  let seen = Number.NaN;
  const read = await pollUntil(
    async () => {
      seen = await seenOffset(context, member, agent);
      return Math.abs(seen - wanted) <= 2 ? seen : undefined;
    },
    REREAD_WITHIN_MS,
    250,
  );
  if (read === undefined) {
    throw new Error(
      `clock-skew: ${member}'s agent clock reads ${faketimeOffset(seen * 1000)} s, not ${faketimeOffset(offsetMs)} s`,
    );
  }
  return read;
}

/**
 * The HA agent's wall clock moved by the step's offset, as an NTP step would move a host's: the
 * agents of a scenario with clock-skew run under libfaketime, which rereads the offset each second.
 * Checked, not assumed: a `date` with the agent's own libfaketime environment must read the offset.
 */
export const clockSkew = defineFault({
  name: "clock-skew",
  summary: "clock-skew: the HA agent's clock moved by offset (libfaketime; heal: back)",
  stamp: "end",
  // The topology starts every agent under libfaketime when a fault of the scenario needs it.
  needs: ["faketime"],
  heals: true,
  options: z.object({
    offset: z
      .string()
      .regex(/^[+-]\d+(ms|s|m|h)$/, { message: "is a signed duration (write e.g. +30s or -2m)" })
      .transform((text) => (text.startsWith("-") ? -1 : 1) * ms(text.slice(1)))
      .describe("clock-skew: how far the HA agent's clock moves (e.g. +30s, -2m)"),
  }),
  aim: "target",
  // An offset is the step's to choose: the nemesis does not draw it.
  nemesis: null,
  async inject(members, context, { offset: offsetMs }) {
    const found: [string, SkewedAgent[]][] = [];
    for (const member of members) {
      const agents = await skewedAgents(member, context);
      if (agents.length === 0) throw new Error(`clock-skew: no HA agent on ${member} runs under libfaketime`);
      found.push([member, agents]);
    }
    await setOffset(members, context, offsetMs);
    const detail: string[] = [];
    for (const [member, agents] of found) {
      const read = await confirmOffset(context, member, agents[0] as SkewedAgent, offsetMs);
      const pids = agents.map((a) => a.pid).join(", ");
      detail.push(
        `${member}: agent ${pids} moved ${faketimeOffset(offsetMs)} s (its clock read ${faketimeOffset(read * 1000)} s)`,
      );
    }
    return {
      members,
      detail: detail.join("; "),
      async heal() {
        await setOffset(members, context, 0);
        for (const [member, agents] of found)
          await confirmOffset(context, member, agents[0] as SkewedAgent, 0);
      },
    };
  },
});
