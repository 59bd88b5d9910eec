import { chownSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Backend } from "../backend/backend.ts";
import { runOk } from "../common/exec.ts";

export const POSTGRES_USER = "postgres";

let postgresIds: { uid: number; gid: number } | undefined;

async function postgresUser(): Promise<{ uid: number; gid: number }> {
  if (!postgresIds) {
    const uid = Number((await runOk(["id", "-u", POSTGRES_USER])).trim());
    const gid = Number((await runOk(["id", "-g", POSTGRES_USER])).trim());
    postgresIds = { uid, gid };
  }
  return postgresIds;
}

/** PostgreSQL members are n1..nN on every topology, so `node:<name>` targets can be checked before a run. */
export function nodeNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `n${i + 1}`);
}

export function memberDir(workdir: string, member: string): string {
  return join(workdir, member);
}

/** Creates a member's own directory, owned by postgres (namespaces share one filesystem). */
export async function prepareMemberDir(workdir: string, member: string): Promise<string> {
  const { uid, gid } = await postgresUser();
  const dir = memberDir(workdir, member);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chownSync(dir, uid, gid);
  return dir;
}

/** Starts a member's long-running process as postgres, with its own HOME and a log in its directory. */
export async function runAsPostgres(backend: Backend, member: string, dir: string, argv: string[]): Promise<number> {
  return backend.spawn({
    member,
    argv,
    user: POSTGRES_USER,
    cwd: dir,
    logFile: join(dir, `${member}.log`),
    env: {
      HOME: dir,
      LANG: "C.UTF-8",
      // Debian's python3 (not a pyenv shim) has the modules Patroni needs.
      PATH: "/usr/lib/postgresql/15/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    },
  });
}
