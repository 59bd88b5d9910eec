import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StartedBackend } from "../harness/backend/backend.ts";
import type { DockerMember } from "../harness/backend/docker-member.ts";
import { DockerBackend, dockerStatus, listDockerRuns } from "../harness/backend/docker.ts";
import { processStartTime } from "../harness/backend/state.ts";
import { pollUntil } from "../harness/common/clock.ts";
import { UsageError } from "../harness/common/errors.ts";

// Real engine, real containers: docker/build.sh must have built the bookworm image.
const IMAGE = "pgchaos/node:bookworm";
const runId = `t${randomBytes(4).toString("hex")}`;
const PORT = 8000;

/** A listener that answers every connection with the peer's address, then closes it. */
const ECHO_PEER = `
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", ${PORT})); s.listen()
while True:
    c, peer = s.accept(); c.sendall((peer[0] + "\\n").encode()); c.close()
`;

function dockerCli(args: string[]): string {
  return execFileSync("docker", args, { encoding: "utf8" }).trim();
}

/** What a listener in a member answers the harness on a published port. */
function peerSeenBy(endpoint: { host: string; port: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(endpoint.port, endpoint.host);
    let answer = "";
    socket.on("data", (chunk) => {
      answer += chunk.toString();
    });
    socket.on("end", () => resolve(answer.trim()));
    socket.on("error", reject);
    socket.setTimeout(3_000, () => socket.destroy(new Error("no answer")));
  });
}

describe("docker backend", () => {
  let backend: StartedBackend;

  beforeAll(async () => {
    const started = performance.now();
    backend = await new DockerBackend({ runId, image: IMAGE }).start([
      { name: "a", ports: [PORT] },
      { name: "b", ports: [PORT] },
    ]);
    console.log(`2 members started in ${Math.round(performance.now() - started)} ms`);
    for (const name of ["a", "b"]) {
      await backend.member(name).spawn({
        argv: ["python3", "-c", ECHO_PEER],
        user: "postgres",
        env: {},
        cwd: "/",
        logFile: `/var/lib/pgchaos/${name}/echo.log`,
      });
    }
  });

  afterAll(async () => {
    await backend?.destroy();
  });

  it("describes the stack and the network", () => {
    expect(backend.stack).toMatchObject({ name: "bookworm", postgresBin: "/usr/lib/postgresql/15/bin" });
    expect(backend.stack.image?.id).toMatch(/^sha256:/);
    expect(backend.subnet).toMatch(/^\d+\.\d+\.\d+\.\d+\/\d+$/);
    expect(backend.member("a").address).not.toBe(backend.member("b").address);
    expect(backend.member("a").dir).toBe("/var/lib/pgchaos/a");
    expect(() => backend.member("nope")).toThrow(/no member nope/);
  });

  it("runs commands as root and as postgres, with env, and bounds their time", async () => {
    const a = backend.member("a");
    const started = performance.now();
    expect((await a.exec(["id", "-un"])).stdout.trim()).toBe("root");
    console.log(`exec round trip: ${Math.round(performance.now() - started)} ms`);
    expect((await a.exec(["id", "-un"], { user: "postgres" })).stdout.trim()).toBe("postgres");
    const env = await a.exec(["sh", "-c", 'echo "$GREETING" >&2; exit 3'], { env: { GREETING: "hi" } });
    expect(env).toEqual({ code: 3, stdout: "", stderr: "hi\n" });
    const slow = await a.exec(["sleep", "30"], { timeoutMs: 500 });
    expect(slow.code).toBe(124);
    const left = await a.exec(["sh", "-c", "ps -eo args= | grep -c '^sleep 30$' || true"]);
    expect(left.stdout.trim()).toBe("0");
    expect((await a.exec(["id"], { user: "nobody-here" })).code).not.toBe(0);
  });

  it("owns its directory as postgres, mode 0700", async () => {
    const listed = await backend.member("a").exec(["stat", "-c", "%U %a", "/var/lib/pgchaos/a"]);
    expect(listed.stdout.trim()).toBe("postgres 700");
  });

  it("writes files with mode and owner, and reads them back; a missing file is null", async () => {
    const a = backend.member("a");
    const content = "line one\nünïcode ✓\n";
    await a.writeFile("/var/lib/pgchaos/a/conf/x.conf", content, { mode: 0o600, owner: "postgres" });
    expect(await a.readFile("/var/lib/pgchaos/a/conf/x.conf")).toBe(content);
    const stat = await a.exec(["stat", "-c", "%U %G %a", "/var/lib/pgchaos/a/conf/x.conf"]);
    expect(stat.stdout.trim()).toBe("postgres postgres 600");
    expect(await a.readFile("/var/lib/pgchaos/a/nothing-here")).toBeNull();
  });

  it("spawns processes it lists and signals, and leaves out its own plumbing", async () => {
    const a = backend.member("a");
    await a.spawn({
      argv: ["sleep", "1000"],
      user: "postgres",
      env: { PGCHAOS_TEST: "1" },
      cwd: "/var/lib/pgchaos/a",
      logFile: "/var/lib/pgchaos/a/sleep.log",
    });
    const sleeper = (await a.processes()).find((p) => p.command === "sleep 1000");
    expect(sleeper).toBeDefined();
    const commands = (await a.processes()).map((p) => p.command);
    expect(
      commands.some((c) => c.includes("sleep infinity") || c.includes("docker-init") || c.startsWith("ps ")),
    ).toBe(false);
    await expect(a.signal(1, "SIGKILL")).rejects.toThrow("pid 1 is not running on a");
    await a.signal(sleeper?.pid ?? -1, "SIGKILL");
    const gone = await pollUntil(
      async () => ((await a.processes()).some((p) => p.pid === sleeper?.pid) ? undefined : true),
      5_000,
      100,
    );
    expect(gone).toBe(true);
    // Spawned processes are docker-init's children: it reaps them, so no zombie is left either.
    expect(sleeper?.ppid).toBe(1);
    const reaped = async () =>
      (await a.exec(["ps", "-eo", "stat="])).stdout.match(/^Z/m) ? undefined : true;
    expect(await pollUntil(reaped, 2_000, 100)).toBe(true);
    const spec = { user: "postgres", env: {}, cwd: "/", logFile: "/var/lib/pgchaos/a/x.log" };
    await expect(a.spawn({ ...spec, argv: ["no-such-command"] })).rejects.toThrow(/command not found/);
    await expect(a.spawn({ ...spec, argv: ["true"], logFile: "/root/x.log" })).rejects.toThrow(
      /Permission denied/,
    );
  });

  it("stops and continues every process of the system under test", async () => {
    const b = backend.member("b");
    const stopped = await b.signalAll("SIGSTOP");
    expect(stopped.length).toBeGreaterThan(0);
    const states = async () => (await b.exec(["ps", "-o", "stat=", "-p", stopped.join(",")])).stdout;
    expect(
      (await states())
        .split("\n")
        .filter(Boolean)
        .every((s) => s.startsWith("T")),
    ).toBe(true);
    await b.signalAll("SIGCONT");
    expect(
      (await states())
        .split("\n")
        .filter(Boolean)
        .some((s) => s.startsWith("T")),
    ).toBe(false);
  });

  it("blocks and restores traffic between members with nft", async () => {
    const [a, b] = [backend.member("a"), backend.member("b")];
    const dial = () =>
      b.exec(["timeout", "2", "bash", "-c", `exec 3<>/dev/tcp/${a.address}/${PORT} && head -1 <&3`]);
    expect((await dial()).stdout.trim()).toBe(b.address);
    await a.blockTraffic("test", { kind: "isolate" });
    expect((await dial()).code).not.toBe(0);
    await a.blockTraffic("test", { kind: "drop", from: [b.address], to: [] });
    expect((await dial()).code).not.toBe(0);
    await a.unblockTraffic("test");
    expect((await dial()).stdout.trim()).toBe(b.address);
    await a.unblockTraffic("test");
  });

  it("dials members at their own addresses on a local engine; they see it come from harnessAddress", async () => {
    const a = backend.member("a");
    expect(a.endpoint(PORT)).toEqual({ host: a.address, port: PORT });
    expect(await peerSeenBy(a.endpoint(PORT))).toBe(backend.harnessAddress);
    expect(() => a.endpoint(5432)).toThrow(/not published/);
  });

  it("pauses and unpauses a member", async () => {
    const a = backend.member("a");
    await a.native?.pause();
    expect(dockerCli(["inspect", "-f", "{{.State.Status}}", `pgchaos-${runId}-a`])).toBe("paused");
    await expect(peerSeenBy(a.endpoint(PORT))).rejects.toThrow();
    await a.native?.unpause();
    expect(await peerSeenBy(a.endpoint(PORT))).toBe(backend.harnessAddress);
  });

  it("disconnects a member and reconnects it with the same address", async () => {
    const [a, b] = [backend.member("a"), backend.member("b")];
    const before = a.endpoint(PORT);
    let started = performance.now();
    await a.native?.disconnect();
    console.log(`disconnect: ${Math.round(performance.now() - started)} ms`);
    expect(
      (await b.exec(["timeout", "2", "bash", "-c", `exec 3<>/dev/tcp/${a.address}/${PORT}`])).code,
    ).not.toBe(0);
    started = performance.now();
    await a.native?.reconnect();
    console.log(`reconnect: ${Math.round(performance.now() - started)} ms`);
    expect(
      dockerCli([
        "inspect",
        "-f",
        `{{(index .NetworkSettings.Networks "pgchaos-${runId}").IPAddress}}`,
        `pgchaos-${runId}-a`,
      ]),
    ).toBe(a.address);
    expect(a.endpoint(PORT)).toEqual(before);
    expect(await peerSeenBy(a.endpoint(PORT))).toBe(backend.harnessAddress);
    const dialled = await b.exec([
      "timeout",
      "2",
      "bash",
      "-c",
      `exec 3<>/dev/tcp/${a.address}/${PORT} && head -1 <&3`,
    ]);
    expect(dialled.stdout.trim()).toBe(b.address);
  });

  it("runs a bundled helper that streams lines, hidden from processes(), and stops it", async () => {
    const a = backend.member("a") as DockerMember;
    const fixtures = mkdtempSync(join(tmpdir(), "pgchaos-helper-"));
    const entry = join(fixtures, "ticker.ts");
    writeFileSync(
      entry,
      `const config: { label: string } = JSON.parse(process.argv.at(-1) ?? "{}");
let n = 0;
const timer = setInterval(() => process.stdout.write(\`\${config.label} \${++n}\\n\`), 50);
process.once("SIGTERM", () => { clearInterval(timer); process.stdout.write("bye\\n"); process.exit(0); });
`,
    );
    const helper = a.startHelper(JSON.stringify({ label: "tick" }), entry);
    const lines: string[] = [];
    helper.onLine((line) => lines.push(line));
    expect(await pollUntil(async () => (lines.length >= 3 ? true : undefined), 20_000, 50)).toBe(true);
    expect(lines.slice(0, 3)).toEqual(["tick 1", "tick 2", "tick 3"]);
    expect((await a.processes()).some((p) => p.command.includes("pgchaos-agent"))).toBe(false);
    expect((await a.exec(["pgrep", "-fc", "pgchaos-agent"])).stdout.trim()).toBe("1");
    await helper.stop();
    rmSync(fixtures, { recursive: true });
    expect(lines.at(-1)).toBe("bye");
    expect(helper.errors()).toBe("");
  });

  it("runs the real agent bundle on the member's Node", async () => {
    const a = backend.member("a");
    const config = {
      startMono: "0",
      startWallMs: Date.now(),
      endpoints: {
        a: { host: "127.0.0.1", port: 5432, user: "postgres", password: "x", database: "postgres" },
      },
      writers: null,
      observe: "a",
    };
    const helper = a.startHelper(JSON.stringify(config));
    const lines: string[] = [];
    helper.onLine((line) => lines.push(line));
    const first = await pollUntil(async () => lines[0], 30_000, 100);
    expect(JSON.parse(first ?? "{}")).toMatchObject({ type: "event" });
    await helper.stop();
    expect(helper.errors()).not.toMatch(/Error/);
  });

  it("lists the run, then leaves nothing labelled with it after destroy", async () => {
    expect((await listDockerRuns()).find((run) => run.runId === runId)).toEqual({
      runId,
      harnessPid: process.pid,
      harnessStarted: processStartTime(process.pid),
      containers: 2,
      networks: 1,
    });
    const started = performance.now();
    await backend.destroy();
    console.log(`destroy: ${Math.round(performance.now() - started)} ms`);
    await backend.destroy();
    expect(dockerCli(["ps", "-a", "-q", "--filter", `label=pgchaos.run=${runId}`])).toBe("");
    expect(dockerCli(["network", "ls", "-q", "--filter", `label=pgchaos.run=${runId}`])).toBe("");
    expect((await listDockerRuns()).some((run) => run.runId === runId)).toBe(false);
  });
});

describe("docker backend errors", () => {
  it("refuses an image the engine does not have, quickly, in one line", async () => {
    const backend = new DockerBackend({
      runId: `t${randomBytes(4).toString("hex")}`,
      image: "pgchaos/node:nope",
    });
    const started = performance.now();
    const error = await backend.start([{ name: "a", ports: [] }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe(
      "image pgchaos/node:nope not found on the Docker engine — fix: docker load/pull it there",
    );
    expect(performance.now() - started).toBeLessThan(5_000);
    const other = await new DockerBackend({ runId: "tother", image: "example/none:1" })
      .start([])
      .catch((e: unknown) => e);
    expect((other as Error).message).toMatch(/^image example\/none:1 not found on the Docker engine/);
  });

  it("reports the engine and the stack images", async () => {
    const status = await dockerStatus();
    expect(status.reachable).toBe(true);
    expect(status.images.find((i) => i.name === IMAGE)?.id).toMatch(/^sha256:/);
  });
});
