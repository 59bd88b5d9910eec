/**
 * What a member reached only through exec does the same way whatever carries the exec (Docker's
 * API, the Kubernetes API): read a file, list its processes, load and remove a packet filter.
 * Written once here for docker-member.ts and kubernetes-member.ts.
 */

import type { ExecResult } from "../common/exec.ts";
import type { MemberProcess, TrafficRule } from "./backend.ts";
import { nftRuleset, nftTable } from "./nft.ts";

/** Every process with its parent and state, one per line, without a header. */
export const PS = ["ps", "-eo", "pid=,ppid=,stat=,args="];

/** The exit code readFile's shell uses for "no such file" (EX_NOINPUT), apart from cat's own failures. */
const MISSING = 66;

type Exec = (argv: string[]) => Promise<ExecResult>;

/** A file's content, or null when it does not exist. */
export async function readFileByExec(exec: Exec, member: string, path: string): Promise<string | null> {
  const result = await exec(["sh", "-c", `test -e "$1" || exit ${MISSING}; exec cat -- "$1"`, "sh", path]);
  if (result.code === MISSING) return null;
  if (result.code !== 0) throw new Error(`cannot read ${path} on ${member}: ${result.stderr.trim()}`);
  return result.stdout;
}

/** `ps` output (PS) as processes, zombies left out. */
export function parseProcesses(listed: string): MemberProcess[] {
  const all: MemberProcess[] = [];
  for (const line of listed.split("\n")) {
    const match = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const [, pid, ppid, stat, command] = match as unknown as [string, string, string, string, string];
    if (stat.startsWith("Z")) continue;
    all.push({ pid: Number(pid), ppid: Number(ppid), command });
  }
  return all;
}

/** A named nftables table in the member's own network stack, replacing one of the same name. */
export async function blockTrafficByExec(
  execOk: (argv: string[]) => Promise<string>,
  name: string,
  rule: TrafficRule,
): Promise<void> {
  const table = nftTable(name);
  // The file stays in the member: what was loaded can be read there afterwards.
  const script = 'nft delete table inet "$1" 2>/dev/null; printf "%s" "$3" >"$2" && exec nft -f "$2"';
  await execOk(["sh", "-c", script, "sh", table, `/tmp/${table}.nft`, nftRuleset(table, rule)]);
}

export async function unblockTrafficByExec(exec: Exec, member: string, name: string): Promise<void> {
  const result = await exec(["nft", "delete", "table", "inet", nftTable(name)]);
  // A heal that silently failed would leave the fault in place: only "no such table" is fine.
  if (result.code !== 0 && !/No such file or directory/.test(result.stderr)) {
    throw new Error(`nft delete table on ${member} exited ${result.code}: ${result.stderr.trim()}`);
  }
}
