import { z } from "zod";
import type { MemberProcess, Signal } from "../backend/backend.ts";
import { type FaultContext, defineFault } from "./fault.ts";

/** PostgreSQL's own processes: the postmaster by its binary, its children by their titles. */
function isPostgres(process: MemberProcess, postgresBin: string): boolean {
  return process.command.startsWith(`${postgresBin}/postgres`) || process.command.startsWith("postgres:");
}

/**
 * The HA agent's processes on a member: those its command line names, and what they started
 * (pg_autoctl's workers), but never PostgreSQL, which an agent may have started and must keep running.
 */
async function agentProcesses(member: string, { backend, topology }: FaultContext): Promise<MemberProcess[]> {
  const all = await backend.member(member).processes();
  const agent = new Set(all.filter((p) => topology.agentCommand.test(p.command)).map((p) => p.pid));
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of all) {
      if (agent.has(p.pid) || !agent.has(p.ppid) || isPostgres(p, backend.stack.postgresBin)) continue;
      agent.add(p.pid);
      grew = true;
    }
  }
  return all.filter((p) => agent.has(p.pid));
}

/** Signals the agent's processes; says which, and which PostgreSQL it left running. */
async function signalAgent(
  member: string,
  context: FaultContext,
  signal: Signal,
  fault: string,
): Promise<string> {
  const processes = await agentProcesses(member, context);
  if (processes.length === 0) throw new Error(`${fault}: no HA agent running on ${member}`);
  for (const { pid } of processes) {
    await context.backend
      .member(member)
      .signal(pid, signal)
      .catch(() => {}); // a worker may have exited with its parent meanwhile
  }
  const postmaster = (await context.backend.member(member).processes()).find((p) =>
    p.command.startsWith(`${context.backend.stack.postgresBin}/postgres`),
  );
  const left = postmaster ? `PostgreSQL ${postmaster.pid} left running` : "no PostgreSQL running";
  return `${member}: ${signal} to ${processes.map((p) => p.pid).join(", ")}; ${left}`;
}

/** SIGKILL of the HA agent alone: PostgreSQL keeps running, unwatched, until the agent is back. */
export const killAgent = defineFault({
  name: "kill-agent",
  summary:
    "kill-agent: SIGKILL of the HA agent only, PostgreSQL keeps running (heal: the agent started again)",
  stamp: "end",
  needs: ["signals"],
  heals: true,
  options: z.object({}),
  aim: "target",
  nemesis: () => ({}),
  async inject(members, context) {
    const detail: string[] = [];
    for (const member of members) detail.push(await signalAgent(member, context, "SIGKILL", "kill-agent"));
    return {
      members,
      detail: detail.join("; "),
      async heal() {
        for (const member of members) {
          if ((await agentProcesses(member, context)).length === 0) await context.topology.startAgent(member);
        }
      },
    };
  },
});

/** SIGSTOP of the HA agent alone: it holds its leases and connections and decides nothing. */
export const freezeAgent = defineFault({
  name: "freeze-agent",
  summary: "freeze-agent: SIGSTOP of the HA agent only (heal: SIGCONT)",
  stamp: "end",
  needs: ["signals"],
  heals: true,
  options: z.object({}),
  aim: "target",
  nemesis: () => ({}),
  async inject(members, context) {
    const detail: string[] = [];
    for (const member of members) detail.push(await signalAgent(member, context, "SIGSTOP", "freeze-agent"));
    return {
      members,
      detail: detail.join("; "),
      async heal() {
        for (const member of members) {
          for (const { pid } of await agentProcesses(member, context)) {
            await context.backend
              .member(member)
              .signal(pid, "SIGCONT")
              .catch(() => {});
          }
        }
      },
    };
  },
});
