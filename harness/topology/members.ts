import { join } from "node:path";
import type { StartedBackend, StartedMember } from "../backend/backend.ts";
import { sleep } from "../common/clock.ts";
import type { ClientLogin, PostgresEndpoint } from "../model/cluster.ts";
import type { Member } from "../model/record.ts";
import { multiHostUri } from "./uri.ts";

export const POSTGRES_USER = "postgres";
export const POSTGRES_PORT = 5432;

/** PostgreSQL members are n1..nN on every topology, so `node:<name>` targets can be checked before a run. */
export function nodeNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `n${i + 1}`);
}

/** A member as reports draw it, with the address its peers use. */
export function describeMember(backend: StartedBackend, name: string, kind: Member["kind"]): Member {
  return { name, kind, address: backend.member(name).address };
}

/** Where a member's long-running process output goes (its HA agent, DCS or proxy), inside the member. */
export function processLog(member: StartedMember): string {
  return join(member.dir, `${member.name}.log`);
}

/** Subdirectories of a member's own directory, owned by postgres. */
export async function prepareMemberDir(member: StartedMember, subdirs: string[] = []): Promise<void> {
  if (subdirs.length === 0) return;
  const paths = subdirs.map((sub) => join(member.dir, sub));
  const result = await member.exec([
    "install",
    "-d",
    "-o",
    POSTGRES_USER,
    "-g",
    POSTGRES_USER,
    "-m",
    "0700",
    ...paths,
  ]);
  if (result.code !== 0)
    throw new Error(`could not create ${paths.join(", ")} on ${member.name}: ${result.stderr.trim()}`);
}

/** A member's own HOME and PATH; Debian's python3 (not a pyenv shim) has the modules Patroni needs. */
export function memberEnv(member: StartedMember, postgresBin: string): Record<string, string> {
  return { HOME: member.dir, LANG: "C.UTF-8", PATH: `${postgresBin}:/usr/sbin:/usr/bin:/sbin:/bin` };
}

/** Starts a member's long-running process as postgres, with its own HOME and a log in its directory. */
export function runAsPostgres(
  backend: StartedBackend,
  member: StartedMember,
  argv: string[],
  env: Record<string, string> = {},
): Promise<void> {
  return member.spawn({
    argv,
    user: POSTGRES_USER,
    cwd: member.dir,
    logFile: processLog(member),
    env: { ...memberEnv(member, backend.stack.postgresBin), ...env },
  });
}

/** Writes a config file into a member's directory, owned by postgres (it may hold a password). */
export function writeConfig(member: StartedMember, name: string, content: string): Promise<void> {
  return member.writeFile(join(member.dir, name), content, { mode: 0o600, owner: POSTGRES_USER });
}

/** Appends to a file inside a member (postgresql.conf, pg_hba.conf): read, extend, write back as it was owned. */
export async function appendToFile(member: StartedMember, path: string, text: string): Promise<void> {
  const before = await member.readFile(path);
  if (before === null) throw new Error(`${path} does not exist on ${member.name}`);
  await member.writeFile(path, `${before}${text}`, { mode: 0o600, owner: POSTGRES_USER });
}

/**
 * A clean stop, as an operator (or a StatefulSet scaled to zero) does it: SIGTERM to the HA agent,
 * which stops PostgreSQL in fast mode; then wait until nothing runs on the member any more.
 */
export async function stopGracefully(
  member: StartedMember,
  agent: RegExp,
  alsoStop: () => Promise<unknown> = async () => {},
): Promise<void> {
  for (const process of await member.processes()) {
    if (agent.test(process.command)) await member.signal(process.pid, "SIGTERM");
  }
  await alsoStop();
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if ((await member.processes()).length === 0) return;
    await sleep(100);
  }
  // Leave nothing half-stopped behind (a second agent would be started on heal): kill what is left.
  const left = (await member.processes()).map((p) => p.command.slice(0, 80));
  await member.signalAll("SIGKILL");
  throw new Error(
    `${member.name} did not stop within 60s of a clean stop; killed what was left: ${left.join("; ")}`,
  );
}

export function dataDirOf(member: StartedMember): string {
  return join(member.dir, "data");
}

/**
 * Runs a command to completion as postgres on a member's host, with the member's own environment;
 * a non-zero exit is an error carrying the last lines it printed.
 */
export async function runOnMember(
  backend: StartedBackend,
  member: StartedMember,
  argv: string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<string> {
  const result = await member.exec(argv, {
    user: POSTGRES_USER,
    env: { ...memberEnv(member, backend.stack.postgresBin), ...options.env },
    timeoutMs: options.timeoutMs ?? 120_000,
  });
  if (result.code !== 0) {
    const last = (result.stderr.trim() || result.stdout.trim()).split("\n").slice(-3).join(" | ");
    throw new Error(`${argv.slice(0, 3).join(" ")} on ${member.name} exited ${result.code}: ${last}`);
  }
  return result.stdout;
}

/** The first line each binary prints for `flag`, by component name, as the member runs them. */
export async function componentVersions(
  member: StartedMember,
  binaries: Record<string, string>,
  flag = "--version",
): Promise<Record<string, string>> {
  const versions: Record<string, string> = {};
  for (const [component, binary] of Object.entries(binaries)) {
    const result = await member.exec([binary, flag]);
    versions[component] = `${result.stdout}${result.stderr}`.split("\n")[0]?.trim() || "unknown";
  }
  return versions;
}

/**
 * The multi-host connection string an application inside the cluster's network is given for these
 * nodes: their own addresses, in order (see multiHostUri).
 */
export function nodesUri(backend: StartedBackend, nodes: string[]): string {
  return multiHostUri(nodes.map((node) => ({ host: backend.member(node).address, port: POSTGRES_PORT })));
}

/** How the harness's clients reach a member's PostgreSQL (`database` overrides the login's). */
export function postgresEndpoint(
  member: StartedMember,
  login: ClientLogin,
  database?: string,
): PostgresEndpoint {
  return {
    ...member.endpoint(POSTGRES_PORT),
    user: login.user ?? POSTGRES_USER,
    password: login.password,
    database: database ?? login.database ?? "postgres",
    ...(login.sessionOptions ? { options: login.sessionOptions } : {}),
  };
}
