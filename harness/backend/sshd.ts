import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sleep } from "../common/clock.ts";
import { run, runOk } from "../common/exec.ts";

/**
 * Marks an sshd the harness started as part of a member's host (like its kernel), not of the system
 * under test: faults never signal it, teardown removes it with the namespace.
 */
export const SSHD_MARKER = "pgchaos-sshd.conf";

export const SSHD_BINARY = "/usr/sbin/sshd";

/** Keys for one run: a host key for every sshd, one client key for the user the HA tool runs as. */
export interface SshKeys {
  hostKey: string;
  clientKey: string;
  authorizedKeys: string;
}

/** Creates the run's keys under dir; the client key belongs to `user`, as ssh insists. */
export async function createSshKeys(dir: string, user: string): Promise<SshKeys> {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const hostKey = join(dir, "host_ed25519");
  const clientDir = join(dir, user);
  mkdirSync(clientDir, { recursive: true, mode: 0o700 });
  const clientKey = join(clientDir, "id_ed25519");
  for (const key of [hostKey, clientKey]) {
    await runOk(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "pgchaos", "-f", key]);
  }
  await runOk(["chown", "-R", `${user}:`, clientDir]);
  const authorizedKeys = join(dir, "authorized_keys");
  writeFileSync(authorizedKeys, readFileSync(`${clientKey}.pub`), { mode: 0o644 });
  // OpenSSH's privilege-separation directory is compiled in; a machine that never ran sshd lacks it.
  if (!existsSync("/run/sshd")) mkdirSync("/run/sshd", { mode: 0o755 });
  return { hostKey, clientKey, authorizedKeys };
}

/** An sshd_config that admits only `user`, only with the run's key, on one address. */
export function sshdConfig(keys: SshKeys, address: string, user: string): string {
  return [
    `ListenAddress ${address}:22`,
    `HostKey ${keys.hostKey}`,
    `AuthorizedKeysFile ${keys.authorizedKeys}`,
    `AllowUsers ${user}`,
    "PidFile none",
    // With PAM, sshd leaves password checks to it: without, the locked postgres account is refused.
    "UsePAM yes",
    "StrictModes no",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "PermitRootLogin no",
    "LogLevel ERROR",
    "",
  ].join("\n");
}

/** Options for the ssh client: the run's key, no known_hosts, no user config. */
export function sshClientOptions(keys: SshKeys): string[] {
  return [
    "-F",
    "/dev/null",
    "-i",
    keys.clientKey,
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "LogLevel=ERROR",
  ];
}

/** Waits until something accepts TCP connections on address:22 from inside a member's host. */
export async function waitForSshd(
  probe: (argv: string[]) => Promise<number>,
  address: string,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if ((await probe(["bash", "-c", `exec 3<>/dev/tcp/${address}/22`])) === 0) return;
    await sleep(100);
  }
  throw new Error(`sshd on ${address} did not listen within 10s`);
}

/** Fails with the fix when OpenSSH's server is not installed. */
export async function requireSshd(): Promise<void> {
  if ((await run(["test", "-x", SSHD_BINARY])).code !== 0) {
    throw new Error(`${SSHD_BINARY} not found — fix: apt-get install openssh-server openssh-client`);
  }
}
