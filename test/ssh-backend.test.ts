import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_MARKER } from "../harness/agent/protocol.ts";
import {
  type HelperProcess,
  INSTRUMENT_MARKER,
  SSHD_MARKER,
  type StartedBackend,
  type StartedMember,
} from "../harness/backend/backend.ts";
import { LocalBackend } from "../harness/backend/local.ts";
import {
  type SshMember,
  SshSession,
  orphanSessions,
  processesMentioning,
  removeOrphanSession,
} from "../harness/backend/ssh.ts";
import { MemberProxy, TOXIPROXY_BIN } from "../harness/backend/toxiproxy.ts";
import { sleep } from "../harness/common/clock.ts";
import { ROOT, leftovers } from "./helpers.ts";
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
let ticker: string;
let stubborn: HelperProcess | null = null;

/**
 * A helper for the tests: prints "<label> <n>" every 50 ms; on SIGTERM says "term", and exits saying
 * "bye" on the `exitOnTerm`th one (0: never). Writes to a closed stdout are ignored, so it outlives
 * its channel unless something signals it.
 */
const TICKER = `import { readFileSync, unlinkSync } from "node:fs";
// As the agent does: over SSH the config comes as @<file>, read once and deleted.
const last = process.argv.at(-1) ?? "{}";
const text = last.startsWith("@") ? readFileSync(last.slice(1), "utf8") : last;
if (last.startsWith("@")) unlinkSync(last.slice(1));
const config: { label: string; exitOnTerm: number } = JSON.parse(text);
process.stdout.on("error", () => {});
let n = 0;
let terms = 0;
const timer = setInterval(() => process.stdout.write(\`\${config.label} \${++n}\\n\`), 50);
process.on("SIGTERM", () => {
  process.stdout.write("term\\n");
  if (++terms !== config.exitOnTerm) return;
  clearInterval(timer);
  process.stdout.write("bye\\n");
  process.exit(0);
});
`;

/** Processes on the host whose command line names `text`, as its own ps shows them (no ssh client of ours). */
async function onHost(
  host: StartedMember,
  text: string,
): Promise<{ pid: number; user: string; args: string }[]> {
  const listed = await host.exec(["ps", "-eo", "pid=,user:32=,args="]);
  const found = [];
  for (const line of listed.stdout.split("\n")) {
    const match = /^\s*(\d+)\s+(\S+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const [, pid, user, args] = match as unknown as [string, string, string, string];
    if (args.includes(text) && !args.startsWith("ssh ")) found.push({ pid: Number(pid), user, args });
  }
  return found;
}

/** The local ssh client attached for a helper or instrument whose command line names `text`. */
function sshClientFor(text: string): number {
  const found = processesMentioning(text).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").startsWith("ssh\0");
    } catch {
      return false;
    }
  });
  if (found.length !== 1) throw new Error(`${found.length} ssh clients name ${text}`);
  return found[0] as number;
}

/** Lines a helper prints, once there are at least `count`. */
async function linesOf(helper: HelperProcess, count: number): Promise<string[]> {
  const lines: string[] = [];
  helper.onLine((line) => lines.push(line));
  await waitFor(async () => lines.length >= count, 30_000, `${count} lines (stderr: ${helper.errors()})`);
  return lines;
}

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
    ticker = join(keys, "ticker.ts");
    writeFileSync(ticker, TICKER);
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
    const slow = await m1.exec(["sleep", "3031"], { timeoutMs: 1_500 });
    expect(slow.code).toBe(124);
    expect(Date.now() - before).toBeLessThan(8_000);
    // The remote timeout ended the sleep itself, not only our ssh client.
    expect((await m1.exec(["pgrep", "-f", "^sleep 3031$"])).stdout.trim()).toBe("");
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

  it("runs a bundled helper as root, attached: its lines stream, processes() never lists it, stop() ends it on the host", async () => {
    const bundlePath = `${m1.dir}/${AGENT_MARKER}-ticker.mjs`;
    const clients = processesMentioning(session.dir).length;
    const helper = m1.startHelper(JSON.stringify({ label: "tick", exitOnTerm: 1 }), ticker);
    const lines = await linesOf(helper, 3);
    expect(lines.slice(0, 3)).toEqual(["tick 1", "tick 2", "tick 3"]);
    // node <bundle> pgchaos-agent @<config file>, as root, the config last; the bundle's name carries the marker.
    const agent = (await onHost(h1, bundlePath)).filter(
      (p) => / pgchaos-agent @/.test(p.args) && /^\S*node /.test(p.args),
    );
    expect(agent).toHaveLength(1);
    expect(agent[0]?.user).toBe("root");
    expect(agent[0]?.args).toMatch(
      new RegExp(
        `^\\S*node ${bundlePath} ${AGENT_MARKER} @${m1.dir}/${AGENT_MARKER}-config-[0-9a-f]{8}\\.json$`,
      ),
    );
    expect((await m1.processes()).filter((p) => p.command.includes(AGENT_MARKER))).toEqual([]);
    await helper.stop();
    expect(lines.slice(-2)).toEqual(["term", "bye"]);
    expect(helper.errors()).toBe("");
    // Nothing of it on the host (its wrapper neither), nor its ssh client here.
    expect(await onHost(h1, bundlePath)).toEqual([]);
    expect(processesMentioning(session.dir)).toHaveLength(clients);
    await helper.stop(); // twice is a no-op
  });

  it("runs the real agent: on the host's node through sudo, and on the harness's own node uploaded once", async () => {
    const config = {
      startMono: "0",
      startWallMs: Date.now(),
      endpoints: {
        x: { host: "127.0.0.1", port: 5432, user: "postgres", password: "x", database: "postgres" },
      },
      clients: null,
      observe: "x",
    };
    const uploaded = await session.member({
      name: "h1-upload",
      ssh: { host: h1.address, identityFile: join(keys, "client") },
      dir: `${h1.dir}/upload`,
      hostNode: false,
    });
    const node = `${uploaded.dir}/${AGENT_MARKER}-node`;
    for (const [member, host] of [
      [p2 ?? m2, h2],
      [uploaded, h1],
    ] as const) {
      const started = Date.now();
      const helper = member.startHelper(JSON.stringify(config));
      const [first] = await linesOf(helper, 1);
      console.log(`${member.name}: first agent line after ${Date.now() - started} ms`);
      // Nothing listens on 5432 there: the observer inside says so at once.
      expect(JSON.parse(first ?? "{}")).toMatchObject({
        type: "event",
        event: { kind: "role", member: "x", observer: "inside", role: "down" },
      });
      const agent = (await onHost(host, `${member.dir}/${AGENT_MARKER}.mjs`)).find(
        (p) => p.args.includes(` ${AGENT_MARKER} @`) && /^\S*node /.test(p.args),
      );
      expect(agent?.user).toBe("root");
      // The config (with the database password) came in a root-only file the agent deleted, not argv.
      expect(agent?.args).not.toContain("password");
      const configs = await member.exec(["sh", "-c", `ls ${member.dir} | grep -c -- -config- || true`]);
      expect(configs.stdout.trim()).toBe("0");
      if (member === uploaded) expect(agent?.args.startsWith(`${node} `)).toBe(true);
      else expect(agent?.args).toMatch(/^\/usr\/\S*bin\/node /);
      await helper.stop();
      expect(helper.errors()).toBe("");
    }
    expect((await uploaded.exec(["cmp", process.execPath, node])).code).toBe(0);
    // A second helper reuses the upload.
    const again = uploaded.startHelper(JSON.stringify(config));
    await linesOf(again, 1);
    await again.stop();
  });

  it("a helper whose ssh client dies: ends with its channel, or is still ended by stop() over another one", async () => {
    // An ordinary helper: the wrapper ends it when the channel's stdin does.
    const bundlePath = `${m1.dir}/${AGENT_MARKER}-ticker.mjs`;
    const helper = m1.startHelper(JSON.stringify({ label: "a", exitOnTerm: 1 }), ticker);
    await linesOf(helper, 2);
    process.kill(sshClientFor(bundlePath), "SIGKILL");
    await waitFor(async () => (await onHost(h1, bundlePath)).length === 0, 10_000, "the helper's end on h1");
    await helper.stop();

    // One that survives the first SIGTERM (the wrapper's): stop() sends its own, through a separate exec.
    const survivor = `${m2.dir}/${AGENT_MARKER}-ticker.mjs`;
    const second = m2.startHelper(JSON.stringify({ label: "b", exitOnTerm: 2 }), ticker);
    await linesOf(second, 2);
    process.kill(sshClientFor(survivor), "SIGKILL");
    await sleep(1_500);
    const alive = (await onHost(h2, survivor)).filter((p) => /^\S*node /.test(p.args));
    expect(alive).toHaveLength(1);
    await second.stop();
    expect(await onHost(h2, survivor)).toEqual([]);

    // One that never exits on SIGTERM, its client killed too: left for the session's close() below.
    stubborn = j2.startHelper(JSON.stringify({ label: "c", exitOnTerm: 0 }), ticker);
    await linesOf(stubborn, 2);
    process.kill(sshClientFor(`${j2.dir}/${AGENT_MARKER}-ticker.mjs`), "SIGKILL");
  });

  it("spawns an instrument by its own PID, as its user with exactly its env and cwd, never in processes(), and stops it", async () => {
    const mark = `${INSTRUMENT_MARKER}-${runId}`;
    const log = `${m2.dir}/instrument.log`;
    const code =
      "import os,time; env=open('/proc/self/environ').read().split('\\0'); print(os.getuid(), os.getcwd(), sorted(env), flush=True); time.sleep(3600)";
    const spec = {
      argv: ["python3", "-c", code, mark],
      user: "postgres",
      env: { PATH: "/usr/bin:/bin", MARK: "m-2" },
      cwd: m2.dir,
      logFile: log,
    };
    const instrument = await m2.spawnInstrument(spec);
    expect(instrument.running()).toBe(true);
    const seen = await onHost(h2, mark);
    expect(seen.map((p) => [p.pid, p.user])).toContainEqual([instrument.pid, "postgres"]);
    expect(seen.find((p) => p.pid === instrument.pid)?.args.startsWith("python3 -c ")).toBe(true);
    expect((await m2.processes()).some((p) => p.pid === instrument.pid)).toBe(false);
    const uid = (await m2.exec(["id", "-u", "postgres"])).stdout.trim();
    await waitFor(async () => (await m2.readFile(log))?.includes("m-2"), 10_000, "the instrument's log");
    // What it was started with (Python adds LC_CTYPE to its own environment later).
    expect(await m2.readFile(log)).toBe(`${uid} ${m2.dir} ['', 'MARK=m-2', 'PATH=/usr/bin:/bin']\n`);
    await instrument.stop();
    expect(instrument.running()).toBe(false);
    expect(await onHost(h2, mark)).toEqual([]);
    await instrument.stop();

    await expect(m2.spawnInstrument({ ...spec, argv: ["sleep", "1"] })).rejects.toThrow(/must carry/);
    await expect(m2.spawnInstrument({ ...spec, cwd: `${m2.dir}/nowhere` })).rejects.toThrow(
      /could not start python3 on h2 \(exit 1\)/,
    );
    // One that exits at once: running() turns false by itself.
    const brief = await m2.spawnInstrument({ ...spec, argv: ["python3", "-c", "pass", mark] });
    await waitFor(async () => !brief.running(), 10_000, "the brief instrument's end");
    await brief.stop();
  });

  it("runs Toxiproxy as an instrument through the SSH member: latency on h1's connections to h2, gone with it", async () => {
    const port = LISTEN_PORT + 1;
    await m2.spawn({
      argv: ["python3", "-m", "http.server", String(port), "--bind", h2.address],
      user: "postgres",
      env: { PATH: "/usr/bin:/bin" },
      cwd: m2.dir,
      logFile: `${m2.dir}/listener-${port}.log`,
    });
    await waitFor(() => connects(m1, h2.address, port), 10_000, "the listener");
    // One request from h1 as postgres (the proxy's DNAT spares root), timed on h1 itself.
    const request = async () => {
      const code = `import socket,sys,time
t=time.time(); s=socket.create_connection((sys.argv[1], int(sys.argv[2])))
s.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n"); s.recv(1); print(round((time.time()-t)*1000))`;
      const r = await m1.exec(["python3", "-c", code, h2.address, String(port)], { user: "postgres" });
      expect(r.code, r.stderr).toBe(0);
      return Number(r.stdout.trim());
    };
    const before = await request();
    const proxy = await MemberProxy.start(
      m1,
      `lat_${runId}`,
      { kind: "outbound", upstreams: [{ address: h2.address, port }] },
      { kind: "latency", delayMs: 400, jitterMs: 0 },
    );
    let delayed: number;
    try {
      delayed = await request();
      // The server itself (its wrapper and watcher carry its argv too), as root, never in processes().
      const server = (await onHost(h1, `toxiproxy-lat_${runId}`)).filter((p) =>
        p.args.startsWith(`${TOXIPROXY_BIN} `),
      );
      expect(server.map((p) => p.user)).toEqual(["root"]);
      expect((await m1.processes()).some((p) => p.pid === server[0]?.pid)).toBe(false);
    } finally {
      await proxy.stop();
    }
    const after = await request();
    console.log(`request h1 → h2: ${before} ms, ${delayed} ms with 400 ms of latency, ${after} ms after`);
    expect(delayed).toBeGreaterThanOrEqual(390);
    expect(after).toBeLessThan(delayed - 200);
    expect(await onHost(h1, `toxiproxy-lat_${runId}`)).toEqual([]);
    expect(await m2.signalAll("SIGTERM")).toHaveLength(1);
  });

  it("a harness killed with SIGKILL leaves no helper on the host (its channel's stdin ends), and cleanup ends its ssh", async () => {
    const script = join(keys, "harness.mts");
    writeFileSync(
      script,
      `import { SshSession } from ${JSON.stringify(join(ROOT, "harness/backend/ssh.ts"))};
const [host, key, dir, ticker] = process.argv.slice(2);
const session = new SshSession({ runId: ${JSON.stringify(runId)} });
const member = await session.member({ name: "h1", ssh: { host, identityFile: key }, dir });
const helper = member.startHelper(JSON.stringify({ label: "k", exitOnTerm: 1 }), ticker);
helper.onLine((line) => { if (line === "k 3") console.log(\`ready \${session.dir}\`); });
`,
    );
    const dir = `${h1.dir}/killed`;
    const child = spawn(
      process.execPath,
      ["--import", "tsx", script, h1.address, join(keys, "client"), dir, ticker],
      { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] },
    );
    const sessionDir = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        const ready = /^ready (\S+)$/m.exec(chunk.toString());
        if (ready) resolve(ready[1] as string);
      });
      child.once("exit", (code) => reject(new Error(`the harness exited ${code} before its helper ran`)));
    });
    const bundlePath = `${dir}/${AGENT_MARKER}-ticker.mjs`;
    expect((await onHost(h1, bundlePath)).length).toBeGreaterThan(0);
    child.kill("SIGKILL");
    const killed = performance.now();
    await waitFor(
      async () => (await onHost(h1, bundlePath)).length === 0,
      10_000,
      "the orphaned helper's end",
    );
    console.log(`helper gone ${Math.round(performance.now() - killed)} ms after its harness's SIGKILL`);
    // Its master is still connected here: what pgchaos cleanup removes.
    const orphan = orphanSessions().find((o) => o.dir === sessionDir);
    expect(orphan?.processes.length).toBeGreaterThan(0);
    await removeOrphanSession(orphan as NonNullable<typeof orphan>);
    expect(processesMentioning(sessionDir)).toEqual([]);
    // The bundle stays in the member's directory: only a closed session removes it.
    expect(readdirSync(dir)).toEqual([`${AGENT_MARKER}-ticker.mjs`]);
    rmSync(dir, { recursive: true });
  });

  it("leaves nothing behind: no control masters, no session directory, no nft table, no namespaces", async () => {
    const dir = session.dir;
    expect(processesMentioning(dir).length).toBeGreaterThan(0);
    // The stubborn helper (its client killed above) still runs on h2 until the session closes.
    const stubbornBundle = `${j2.dir}/${AGENT_MARKER}-ticker.mjs`;
    expect((await onHost(h2, stubbornBundle)).length).toBeGreaterThan(0);
    const closing = performance.now();
    await session.close();
    console.log(`close with a stubborn helper: ${Math.round(performance.now() - closing)} ms`);
    expect(stubborn?.errors()).toMatch(/ignored SIGTERM for 3000 ms on h2-via-h1: killed/);
    expect(await onHost(h2, stubbornBundle)).toEqual([]);
    for (const host of [h1, h2]) {
      const left = (await onHost(host, `pgchaos-${runId}`)).filter((p) => !p.args.includes(SSHD_MARKER));
      expect(left, host.name).toEqual([]);
    }
    // The bundles and the uploaded node are removed from the members' directories.
    for (const remote of [`${h1.dir}/remote`, `${h1.dir}/upload`, `${h2.dir}/remote`])
      expect(
        readdirSync(remote).filter((f) => f.includes(AGENT_MARKER)),
        remote,
      ).toEqual([]);
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
