import { join } from "node:path";
import { type StartedMember, sharedMemoryPrefix } from "../backend/backend.ts";
import { POSTGRES_USER } from "./members.ts";
import type { TopologyContext } from "./topology.ts";

/** Debian's libfaketime (package libfaketime), for this machine's architecture. */
const LIBFAKETIME = `/usr/lib/${process.arch === "arm64" ? "aarch64" : "x86_64"}-linux-gnu/faketime/libfaketime.so.1`;

/** The file an HA agent's libfaketime reads its clock offset from, inside the member. */
export function clockOffsetFile(member: StartedMember): string {
  return join(member.dir, "faketime.rc");
}

/** libfaketime's notation for an offset: signed whole seconds. */
export function faketimeOffset(offsetMs: number): string {
  const seconds = Math.round(offsetMs / 1000);
  return seconds < 0 ? `${seconds}` : `+${seconds}`;
}

/**
 * How a member's HA agent is launched. A scenario that skews clocks starts every agent under
 * libfaketime with a zero offset, so that clock-skew can move it later without a restart. Its
 * monotonic clock moves too: with it left alone, libfaketime 0.9.10 fails Python's sleep (EINVAL)
 * once the offset changes — the harness's problem, not the agent's. Whatever the agent starts inherits it (Patroni's and pg_autoctl's PostgreSQL; not repmgr's).
 * The preload goes on the agent's own command line, after the switch to postgres: preloaded into
 * the root launcher, libfaketime would create a semaphore the postgres user cannot open.
 */
export async function agentArgv(
  context: TopologyContext,
  member: StartedMember,
  argv: string[],
): Promise<string[]> {
  const skews = context.scenario.needs.includes("faketime");
  if (!skews) return argv;
  const file = clockOffsetFile(member);
  if ((await member.readFile(file)) === null) {
    await member.writeFile(file, `${faketimeOffset(0)}\n`, { mode: 0o644 });
  }
  return [
    "env",
    `LD_PRELOAD=${LIBFAKETIME}`,
    `FAKETIME_TIMESTAMP_FILE=${file}`,
    "FAKETIME_CACHE_DURATION=1",
    `FAKETIME_SHARED=${await sharedClock(context.runId, member)}`,
    ...argv,
  ];
}

/**
 * libfaketime's shared clock state, made by the harness: without one, every agent that forks
 * creates its own in /dev/shm, named by its PID, and nothing removes it. A semaphore (made by
 * Python's sem_open, as postgres) and an 8-byte segment, named after the run for the backend's teardown.
 */
async function sharedClock(runId: string, member: StartedMember): Promise<string> {
  const name = `/${sharedMemoryPrefix(runId)}${member.name}-faketime`;
  if ((await member.readFile(`/dev/shm${name}`)) === null) {
    const made = await member.exec(
      [
        "/usr/bin/python3",
        "-c",
        `import _multiprocessing; _multiprocessing.SemLock(1, 1, 1, "${name}", False)`,
      ],
      { user: POSTGRES_USER },
    );
    if (made.code !== 0)
      throw new Error(`clock-skew: no semaphore ${name} on ${member.name}: ${made.stderr.trim()}`);
    await member.writeFile(`/dev/shm${name}`, "\0".repeat(8), { mode: 0o600, owner: POSTGRES_USER });
  }
  return `${name} ${name}`;
}
