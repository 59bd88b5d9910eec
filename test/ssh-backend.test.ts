import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SSHD_MARKER, type StartedBackend, type StartedMember } from "../harness/backend/backend.ts";
import { LocalBackend } from "../harness/backend/local.ts";
import { type SshMember, SshSession, processesMentioning } from "../harness/backend/ssh.ts";
import { sleep } from "../harness/common/clock.ts";
import { leftovers } from "./helpers.ts";
import { makeKeys, startSshd, waitFor } from "./sshd.ts";

/**
 * Two hosts pgchaos did not set up for itself as far as the SSH member can tell: namespaces of
 * the local backend, each with an sshd of its own, driven only through SshMember. The local
 * members are used only to start the sshds and, at the end, to check from outside.
 */

const runId = randomBytes(3).toString("hex");
const SUDO = existsSync("/usr/bin/sudo");
const LISTEN_PORT = 18080;

let backend: LocalBackend;
let started: StartedBackend;
let h1: StartedMember;
let h2: StartedMember;
let session: SshSession;
let keys: string;
/** Root logins on h1 and h2; postgres with sudo on h2; root on h2 through h1 (ssh -J). */
let m1: SshMember;
let m2: SshMember;
let p2: SshMember | null = null;
let j2: SshMember;

/** A TCP connection from one host to another's port, through the SSH member of the first. */
async function connects(from: SshMember, to: string, port: number): Promise<boolean> {
  const result = await from.exec(["bash", "-c", `exec 3<>/dev/tcp/${to}/${port}`], { timeoutMs: 3_000 });
  return result.code === 0;
}

describe("SSH member: every verb over the system ssh client", () => {
  beforeAll(async () => {
    backend = new LocalBackend(runId);
    started = await backend.start([
      { name: "h1", ports: [22] },
      { name: "h2", ports: [22] },
    ]);
    h1 = started.member("h1");
    h2 = started.member("h2");
    keys = mkdtempSync(join(tmpdir(), `pgchaos-${runId}-keys-`));
    const { clientPub: pub, hostKey: host } = await makeKeys(keys);
    await startSshd(h1, pub, host);
    await startSshd(h2, pub, host);
    session = new SshSession({ runId });
    const identityFile = join(keys, "client");
    m1 = await session.member({
      name: "h1",
      ssh: { host: h1.address, identityFile },
      dir: `${h1.dir}/remote`,
    });
    m2 = await session.member({
      name: "h2",
      ssh: { host: h2.address, identityFile },
      dir: `${h2.dir}/remote`,
    });
    if (SUDO)
      p2 = await session.member({
        name: "h2-postgres",
        ssh: { host: h2.address, user: "postgres", identityFile },
        sudo: true,
        dir: `${h2.dir}/remote`,
      });
    j2 = await session.member({
      name: "h2-via-h1",
      ssh: { host: h2.address, identityFile },
      jump: { host: h1.address, identityFile },
      dir: `${h2.dir}/remote`,
    });
  });

  afterAll(async () => {
    // Normally done by the last test already; idempotent, so a failure earlier still cleans up.
    await session?.close();
    await backend?.destroy();
    if (keys) rmSync(keys, { recursive: true, force: true });
  });

  it("runs argv verbatim as root and as postgres, with env and a remote timeout", async () => {
    for (const member of [m1, m2, j2, ...(p2 ? [p2] : [])]) {
      expect((await member.exec(["id", "-un"])).stdout.trim()).toBe("root");
      expect((await member.exec(["id", "-un"], { user: "postgres" })).stdout.trim()).toBe("postgres");
    }
    const words = ["it's", "a  b", "$HOME", "`id`", '"q"', "x;y", "", "*"];
    const echoed = await m1.exec(["printf", "<%s>", ...words]);
    expect(echoed.code).toBe(0);
    expect(echoed.stdout).toBe(words.map((w) => `<${w}>`).join(""));
    const env = await m2.exec(["sh", "-c", 'printf %s "$GREETING"'], {
      user: "postgres",
      env: { GREETING: "it's a $test" },
    });
    expect(env.stdout).toBe("it's a $test");
    expect((await m1.exec(["sh", "-c", "exit 7"])).code).toBe(7);
    const before = Date.now();
    const slow = await m1.exec(["sleep", "30"], { timeoutMs: 1_500 });
    expect(slow.code).toBe(124);
    expect(Date.now() - before).toBeLessThan(8_000);
    // The remote timeout ended the sleep itself, not only our ssh client.
    expect((await m1.exec(["pgrep", "-f", "^sleep 30$"])).stdout.trim()).toBe("");
  });

  it("refuses a non-root login without sudo, with the fix in the message", async () => {
    if (!SUDO) return;
    await expect(
      session.member({
        name: "h2-nosudo",
        ssh: { host: h2.address, user: "postgres", identityFile: join(keys, "client") },
        dir: `${h2.dir}/remote`,
      }),
    ).rejects.toThrow(/h2-nosudo: commands as root fail for postgres \(set sudo: true\)/);
  });

  it("writes, reads and uploads files (binary-safe, with mode and owner), and reads a missing one as null", async () => {
    const text = "line one\nquote ' \" ` $HOME\nünïcødé ✓\n";
    const path = `${m2.dir}/note.txt`;
    await m2.writeFile(path, text, { mode: 0o640, owner: "postgres" });
    expect(await m2.readFile(path)).toBe(text);
    expect((await m2.exec(["stat", "-c", "%a %U", path])).stdout.trim()).toBe("640 postgres");
    if (p2) {
      await p2.writeFile(`${p2.dir}/by-sudo.txt`, "via sudo\n", { mode: 0o600 });
      expect((await m2.exec(["stat", "-c", "%a %U", `${p2.dir}/by-sudo.txt`])).stdout.trim()).toBe(
        "600 root",
      );
      expect(await p2.readFile(`${p2.dir}/by-sudo.txt`)).toBe("via sudo\n");
    }
    expect(await m2.readFile(`${m2.dir}/does-not-exist`)).toBeNull();
    await expect(m2.readFile(`${m2.dir}`)).rejects.toThrow(/cannot read/);

    const local = join(keys, "blob.bin");
    const blob = randomBytes(3 * 1024 * 1024 + 17);
    blob[0] = 0;
    blob[1] = 0x0a;
    writeFileSync(local, blob);
    const sha = createHash("sha256").update(blob).digest("hex");
    for (const member of [m1, j2]) {
      const target = `${member.dir}/blob-${member.name}.bin`;
      await member.upload(local, target, { mode: 0o755 });
      const sum = await member.exec(["sha256sum", target]);
      expect(sum.stdout.split(" ")[0]).toBe(sha);
      expect((await member.exec(["stat", "-c", "%a %s", target])).stdout.trim()).toBe(`755 ${blob.length}`);
    }
  });

  it("spawns a detached process, lists it as the system under test on its host only, and signals it", async () => {
    const log = `${m2.dir}/sleeper.log`;
    await m2.spawn({
      argv: ["sh", "-c", 'echo "started as $(id -un) with $MARK"; exec sleep 3607'],
      user: "postgres",
      env: { PATH: "/usr/bin:/bin", MARK: "mark-1" },
      cwd: m2.dir,
      logFile: log,
    });
    const found = await waitFor(
      async () => (await m2.processes()).find((p) => p.command === "sleep 3607") ?? null,
      5_000,
      "the spawned sleep",
    );
    expect(await m2.readFile(log)).toBe("started as postgres with mark-1\n");
    // Its own host only, and no sshd, no listing, no session shell among the system under test.
    expect((await m1.processes()).some((p) => p.pid === found.pid)).toBe(false);
    const listed = await m2.processes();
    expect(listed.filter((p) => /sshd|\bps -eo\b/.test(p.command))).toEqual([]);
    if (p2) expect((await p2.processes()).map((p) => p.pid).sort()).toEqual(listed.map((p) => p.pid).sort());
    const stat = async () => (await m2.exec(["ps", "-o", "stat=", "-p", String(found.pid)])).stdout.trim();
    await m2.signal(found.pid, "SIGSTOP");
    expect(await stat()).toMatch(/^T/);
    await (p2 ?? m2).signal(found.pid, "SIGCONT");
    expect(await stat()).toMatch(/^S/);
    // Anything outside the system under test is refused: the sshd, init.
    const sshd = (await m2.exec(["pgrep", "-f", SSHD_MARKER])).stdout.trim().split("\n")[0] as string;
    await expect(m2.signal(Number(sshd), "SIGSTOP")).rejects.toThrow(
      /not a process of the system under test/,
    );
    await expect(m2.signal(1, "SIGKILL")).rejects.toThrow(/not a process of the system under test/);
    expect(await m2.signalAll("SIGKILL")).toEqual([found.pid]);
    // Gone, or a zombie until the host's init reaps it (this machine's PID 1 is slow to).
    await waitFor(async () => /^Z?$/.test(await stat()), 5_000, "the kill");
    expect(await m2.processes()).toEqual([]);
  });

  it("isolates a host with nftables (named after the run) and heals it, keeping its own SSH connection", async () => {
    await m2.spawn({
      argv: ["python3", "-m", "http.server", String(LISTEN_PORT), "--bind", h2.address],
      user: "postgres",
      env: { PATH: "/usr/bin:/bin" },
      cwd: m2.dir,
      logFile: `${m2.dir}/listener.log`,
    });
    await waitFor(() => connects(m1, h2.address, LISTEN_PORT), 10_000, "the listener");
    const table = m2.tableName("isolate");
    expect(table).toContain(runId);
    await m2.blockTraffic("isolate", { kind: "isolate" });
    expect((await h2.exec(["nft", "list", "tables"])).stdout).toContain(`inet ${table}`);
    expect(await connects(m1, h2.address, LISTEN_PORT)).toBe(false);
    // The harness's control connection is spared, so the host can be healed through it.
    expect((await m2.exec(["true"])).code).toBe(0);
    // Only the harness's: a new connection from another host to its SSH port is dropped like any other.
    expect(await connects(m1, h2.address, 22)).toBe(false);
    await m2.unblockTraffic("isolate");
    expect((await h2.exec(["nft", "list", "tables"])).stdout).not.toContain(table);
    expect(await connects(m1, h2.address, LISTEN_PORT)).toBe(true);
    await m2.unblockTraffic("isolate"); // a heal twice is a no-op
    expect(await m2.signalAll("SIGTERM")).toHaveLength(1);
  });

  it("reaches a host through a jump host (ssh -J)", async () => {
    // The jump's master may have been torn down by the isolation: ServerAlive ends it, a new one is made.
    const seen = await waitFor(
      async () => {
        const r = await j2.exec(["sh", "-c", 'echo "$SSH_CONNECTION"'], { timeoutMs: 5_000 });
        return r.code === 0 ? r.stdout.trim() : null;
      },
      30_000,
      "the jump route",
    );
    expect(seen.split(" ")[0]).toBe(h1.address);
    expect(seen.split(" ")[2]).toBe(h2.address);
    const direct = (await m2.exec(["sh", "-c", 'echo "$SSH_CONNECTION"'])).stdout.trim();
    expect(direct.split(" ")[0]).toBe(started.harnessAddress);
  });

  it("leaves nothing behind: no control masters, no session directory, no nft table, no namespaces", async () => {
    const dir = session.dir;
    expect(processesMentioning(dir).length).toBeGreaterThan(0);
    await session.close();
    expect(processesMentioning(dir)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
    for (const host of [h1, h2])
      expect((await host.exec(["nft", "list", "tables"])).stdout).not.toContain(runId);
    await backend.destroy();
    rmSync(keys, { recursive: true, force: true });
    await sleep(200);
    expect(leftovers(runId)).toEqual([]);
  });
});
