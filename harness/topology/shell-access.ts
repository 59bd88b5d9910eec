import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SSHD_MARKER, type StartedMember } from "../backend/backend.ts";
import { sleep } from "../common/clock.ts";
import { runOk } from "../common/exec.ts";

const SSHD_BINARY = "/usr/sbin/sshd";

/**
 * Lets `user` on every listed member run commands on the others over SSH, as repmgr's switchover
 * does: one sshd per member, run as root like a host's own, admitting only the run's key. Returns,
 * per member, the ssh client options that reach the others (the run's key, no host-key prompts).
 */
export async function openShellAccess(
  members: StartedMember[],
  user: string,
): Promise<Map<string, string[]>> {
  const keys = await createKeys();
  const options = new Map<string, string[]>();
  for (const member of members) {
    const dir = join(member.dir, "ssh");
    const paths = {
      hostKey: join(dir, "host_ed25519"),
      clientKey: join(dir, "id_ed25519"),
      authorized: join(dir, "authorized_keys"),
    };
    const config = join(dir, SSHD_MARKER);
    await must(member, ["install", "-d", "-m", "0755", dir, "/run/sshd"]);
    await member.writeFile(paths.hostKey, keys.host, { mode: 0o600, owner: "root" });
    await member.writeFile(paths.clientKey, keys.client, { mode: 0o600, owner: user });
    await member.writeFile(paths.authorized, keys.authorized, { mode: 0o644, owner: "root" });
    await member.writeFile(config, sshdConfig(paths, member.address, user), { mode: 0o644, owner: "root" });
    await member.spawn({
      argv: [SSHD_BINARY, "-D", "-e", "-f", config],
      user: "root",
      env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
      cwd: "/",
      logFile: join(dir, "sshd.log"),
    });
    options.set(member.name, sshClientOptions(paths.clientKey));
  }
  for (const member of members) await waitForSshd(member);
  return options;
}

/** One run's keys, made on the harness's side and copied into each member. */
async function createKeys(): Promise<{ host: string; client: string; authorized: string }> {
  const dir = mkdtempSync(join(tmpdir(), "pgchaos-ssh-"));
  try {
    for (const key of ["host", "client"]) {
      await runOk(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "pgchaos", "-f", join(dir, key)]);
    }
    const read = (name: string) => readFileSync(join(dir, name), "utf8");
    return { host: read("host"), client: read("client"), authorized: read("client.pub") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An sshd_config that admits only `user`, only with the run's key, on one address. */
function sshdConfig(paths: { hostKey: string; authorized: string }, address: string, user: string): string {
  return [
    `ListenAddress ${address}:22`,
    `HostKey ${paths.hostKey}`,
    `AuthorizedKeysFile ${paths.authorized}`,
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
function sshClientOptions(clientKey: string): string[] {
  return [
    "-F",
    "/dev/null",
    "-i",
    clientKey,
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "LogLevel=ERROR",
  ];
}

/** Waits until something accepts TCP connections on the member's port 22, from inside it. */
async function waitForSshd(member: StartedMember): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const probe = await member.exec(["bash", "-c", `exec 3<>/dev/tcp/${member.address}/22`]);
    if (probe.code === 0) return;
    await sleep(100);
  }
  const log = (await member.readFile(join(member.dir, "ssh", "sshd.log"))) ?? "";
  throw new Error(`sshd on ${member.name} did not listen within 10s: ${log.trim().slice(-300)}`);
}

async function must(member: StartedMember, argv: string[]): Promise<void> {
  const result = await member.exec(argv);
  if (result.code !== 0) throw new Error(`${argv.join(" ")} on ${member.name}: ${result.stderr.trim()}`);
}
