import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Every resource a run creates is written here *before* it is created, so that `pgchaos cleanup`
 * can remove it after a harness crash (kill -9, power loss) as well as on a normal exit.
 */
export interface RunState {
  run_id: string;
  harness_pid: number;
  /** Its start time (/proc/<pid>/stat): a live PID with another start time is a reused one. */
  harness_started?: string;
  namespaces: string[];
  links: string[];
  nft_tables: string[];
  /** iptables rules inserted to get past Docker's FORWARD DROP, as the argv that deletes them. */
  iptables_deletes: string[][];
  /** Members' own filesystems (harness/backend/disk.ts): mount points, and the files behind their loop devices. */
  mounts: string[];
  backing_files: string[];
  workdir: string | null;
}

export const STATE_DIR = "/run/pgchaos";

export function statePath(runId: string): string {
  return join(STATE_DIR, `${runId}.json`);
}

export function saveState(state: RunState): void {
  mkdirSync(STATE_DIR, { recursive: true });
  writeFileSync(statePath(state.run_id), JSON.stringify(state, null, 2));
}

export function removeState(runId: string): void {
  rmSync(statePath(runId), { force: true });
}

export function listStates(): RunState[] {
  let files: string[];
  try {
    files = readdirSync(STATE_DIR).filter((f) => f.endsWith(".json"));
  } catch {
    return [];
  }
  // A state file written before a field existed still loads: what it lacks, that run never created.
  return files.map((f) => ({
    mounts: [],
    backing_files: [],
    ...(JSON.parse(readFileSync(join(STATE_DIR, f), "utf8")) as Partial<RunState>),
  })) as RunState[];
}

/** A process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat); null when it is gone. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count from the last ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

/**
 * Whether the harness that owns a run still runs: the same PID with the same start time. Without a
 * recorded start time (an older state file, a test's made-up PID), a live pgchaos by its command line.
 */
export function harnessAlive(pid: number, started: string | undefined): boolean {
  if (pid === process.pid) return false;
  if (started !== undefined) return processStartTime(pid) === started;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return cmdline.includes("pgchaos") || cmdline.includes("harness/cli");
  } catch {
    return false;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
