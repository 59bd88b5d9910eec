import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Every resource a run creates is written here *before* it is created, so that `pgchaos cleanup`
 * can remove it after a harness crash (kill -9, power loss) as well as on a normal exit.
 */
export interface RunState {
  run_id: string;
  harness_pid: number;
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

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
