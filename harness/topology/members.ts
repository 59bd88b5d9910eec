import { chownSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Backend } from "../backend/backend.ts";
import { run, runOk } from "../common/exec.ts";
import type { Member } from "../run/record.ts";
import type { PostgresEndpoint } from "./topology.ts";

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

/** A member as reports draw it; its address is empty until the backend has created its host. */
export function describeMember(backend: Backend, name: string, kind: Member["kind"]): Member {
  try {
    return { name, kind, address: backend.address(name) };
  } catch {
    return { name, kind, address: "" };
  }
}

export function memberDir(workdir: string, member: string): string {
  return join(workdir, member);
}

/** Where runAsPostgres appends a member's long-running process output (its HA agent, DCS or proxy). */
export function processLog(dir: string, member: string): string {
  return join(dir, `${member}.log`);
}

/** Creates a member's own directory (and subdirectories), owned by postgres: namespaces share one filesystem. */
export async function prepareMemberDir(
  workdir: string,
  member: string,
  subdirs: string[] = [],
): Promise<string> {
  const { uid, gid } = await postgresUser();
  const dir = memberDir(workdir, member);
  for (const path of [dir, ...subdirs.map((sub) => join(dir, sub))]) {
    mkdirSync(path, { recursive: true, mode: 0o700 });
    chownSync(path, uid, gid);
  }
  return dir;
}

/** Starts a member's long-running process as postgres, with its own HOME and a log in its directory. */
export async function runAsPostgres(
  backend: Backend,
  member: string,
  dir: string,
  argv: string[],
  env: Record<string, string> = {},
): Promise<number> {
  return backend.spawn({
    member,
    argv,
    user: POSTGRES_USER,
    cwd: dir,
    logFile: processLog(dir, member),
    env: { ...memberEnv(dir), ...env },
  });
}

/** A member's own HOME and PATH; Debian's python3 (not a pyenv shim) has the modules Patroni needs. */
export function memberEnv(dir: string): Record<string, string> {
  return { HOME: dir, LANG: "C.UTF-8", PATH: "/usr/lib/postgresql/15/bin:/usr/sbin:/usr/bin:/sbin:/bin" };
}

/**
 * A clean stop, as an operator (or a StatefulSet scaled to zero) does it: SIGTERM to the HA agent,
 * which stops PostgreSQL in fast mode; then wait until nothing runs on the member any more.
 */
export async function stopGracefully(
  backend: Backend,
  member: string,
  agent: RegExp,
  alsoStop: () => Promise<unknown> = async () => {},
): Promise<void> {
  for (const process of await backend.processes(member)) {
    if (agent.test(process.command)) await backend.signalProcess(member, process.pid, "SIGTERM");
  }
  await alsoStop();
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if ((await backend.processes(member)).length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // Leave nothing half-stopped behind (a second agent would be started on heal): kill what is left.
  const left = (await backend.processes(member)).map((p) => p.command.slice(0, 80));
  await backend.signalHost(member, "SIGKILL");
  throw new Error(
    `${member} did not stop within 60s of a clean stop; killed what was left: ${left.join("; ")}`,
  );
}

export function dataDirOf(workdir: string, member: string): string {
  return join(memberDir(workdir, member), "data");
}

/**
 * Runs a command to completion as postgres on a member's host, with the member's own environment;
 * a non-zero exit is an error carrying the last lines it printed.
 */
export async function runOnMember(
  backend: Backend,
  workdir: string,
  member: string,
  argv: string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<string> {
  const env = Object.entries({ ...memberEnv(memberDir(workdir, member)), ...options.env }).map(
    ([k, v]) => `${k}=${v}`,
  );
  const result = await backend.exec(member, ["env", ...env, ...argv], {
    user: POSTGRES_USER,
    timeoutMs: options.timeoutMs ?? 120_000,
  });
  if (result.code !== 0) {
    const last = (result.stderr.trim() || result.stdout.trim()).split("\n").slice(-3).join(" | ");
    throw new Error(`${argv.slice(0, 3).join(" ")} on ${member} exited ${result.code}: ${last}`);
  }
  return result.stdout;
}

/** The first line each binary prints for --version, by component name. */
export async function componentVersions(binaries: Record<string, string>): Promise<Record<string, string>> {
  const versions: Record<string, string> = {};
  for (const [component, binary] of Object.entries(binaries)) {
    versions[component] = (await run([binary, "--version"])).stdout.split("\n")[0]?.trim() || "unknown";
  }
  return versions;
}

/** How the harness's clients reach a member's PostgreSQL (one port per namespace, so 5432 everywhere). */
export function postgresEndpoint(
  backend: Backend,
  member: string,
  password: string,
  database = "postgres",
): PostgresEndpoint {
  return { host: backend.address(member), port: 5432, user: "postgres", password, database };
}

export const POSTGRES_BIN = "/usr/lib/postgresql/15/bin";
