import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { SSHD_MARKER, type StartedMember } from "../harness/backend/backend.ts";
import { sleep } from "../harness/common/clock.ts";
import { runOk } from "../harness/common/exec.ts";

/**
 * An sshd of a member's own, in its namespace, as a host pgchaos did not set up would have one:
 * root (and postgres, with sudo in this sshd's private mount namespace) log in with `clientPub`.
 */
const SUDO = existsSync("/usr/bin/sudo");

/** A client key pair and a host key made for a test in `dir`: the client's private key file, its public key, the host's private key. */
export async function makeKeys(
  dir: string,
): Promise<{ clientKey: string; clientPub: string; hostKey: string }> {
  for (const key of ["client", "host"]) {
    await runOk(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "pgchaos-test", "-f", join(dir, key)]);
  }
  return {
    clientKey: join(dir, "client"),
    clientPub: readFileSync(join(dir, "client.pub"), "utf8"),
    hostKey: readFileSync(join(dir, "host"), "utf8"),
  };
}

/** Something accepts TCP connections on the member's address and `port`, from inside it. */
async function listening(member: StartedMember, port: number): Promise<boolean> {
  return (await member.exec(["bash", "-c", `exec 3<>/dev/tcp/${member.address}/${port}`])).code === 0;
}

export async function startSshd(
  member: StartedMember,
  clientPub: string,
  hostKey: string,
  port = 22,
): Promise<void> {
  // Another sshd there (a provisioned repmgr's, for its switchovers) would answer the wait below.
  if (await listening(member, port))
    throw new Error(`${member.name}: something already listens on ${member.address}:${port}`);
  const dir = join(member.dir, "sshd");
  await runOk(["install", "-d", "-m", "0755", dir, "/run/sshd"]);
  const paths = {
    hostKey: join(dir, "host_ed25519"),
    authorized: join(dir, "authorized_keys"),
    sudoers: join(dir, "sudoers"),
    config: join(dir, SSHD_MARKER),
  };
  await member.writeFile(paths.hostKey, hostKey, { mode: 0o600, owner: "root" });
  await member.writeFile(paths.authorized, clientPub, { mode: 0o644, owner: "root" });
  // postgres may use sudo without a password — only in this sshd's own mount namespace, where
  // this file is bind-mounted over /etc/sudoers: the machine's own sudoers never changes.
  await member.writeFile(
    paths.sudoers,
    "Defaults env_reset\nroot ALL=(ALL:ALL) ALL\npostgres ALL=(ALL:ALL) NOPASSWD: ALL\n",
    { mode: 0o440, owner: "root" },
  );
  await member.writeFile(
    paths.config,
    [
      `ListenAddress ${member.address}:${port}`,
      `HostKey ${paths.hostKey}`,
      `AuthorizedKeysFile ${paths.authorized}`,
      "AllowUsers root postgres",
      "PermitRootLogin prohibit-password",
      "PidFile none",
      "UsePAM yes",
      "StrictModes no",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "AllowTcpForwarding yes",
      "LogLevel ERROR",
      "",
    ].join("\n"),
    { mode: 0o644, owner: "root" },
  );
  const script = 'mount --bind "$1" /etc/sudoers && exec /usr/sbin/sshd -D -e -f "$2"';
  const mount = SUDO ? script : 'exec /usr/sbin/sshd -D -e -f "$2"';
  await member.spawn({
    argv: [
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "--",
      "sh",
      "-c",
      mount,
      "sh",
      paths.sudoers,
      paths.config,
    ],
    user: "root",
    env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
    cwd: "/",
    logFile: join(dir, "sshd.log"),
  });
  await waitFor(() => listening(member, port), 10_000, `sshd on ${member.name}`);
}

/** Polls until `probe` returns something truthy; fails naming `what` after timeoutMs. */
export async function waitFor<T>(
  probe: () => Promise<T>,
  timeoutMs: number,
  what: string,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() >= deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
}
