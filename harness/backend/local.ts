import { type ChildProcess, spawn } from "node:child_process";
import {
  chmodSync,
  chownSync,
  closeSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { AGENT_MAIN, AGENT_MARKER } from "../agent/protocol.ts";
import { sleep } from "../common/clock.ts";
import { type ExecResult, run, runOk } from "../common/exec.ts";
import type { Stack } from "../model/record.ts";
import {
  type Backend,
  CAPABILITIES,
  type ExecOptions,
  type HelperProcess,
  INSTRUMENT_MARKER,
  type InstrumentProcess,
  type MemberProcess,
  type MemberSpec,
  type ProcessSpec,
  type Signal,
  type StartedBackend,
  type StartedMember,
  type TrafficRule,
  sharedMemoryPrefix,
} from "./backend.ts";
import { createDisk, removeDisks, thawDisks } from "./disk.ts";
import { systemUnderTest } from "./instruments.ts";
import { nftRuleset, nftTable } from "./nft.ts";

import { type RunState, isAlive, processStartTime, removeState, saveState } from "./state.ts";

/** Binaries of the harness's own dependencies (tsx's esbuild service may outlive its agent's start). */
const HARNESS_MODULES = fileURLToPath(new URL("../../node_modules/", import.meta.url));
const PROJECT = fileURLToPath(new URL("../../", import.meta.url));

/** First host address in the run's /24; .1 is the bridge (the harness's side). */
const FIRST_HOST = 11;

/**
 * Members as Linux network namespaces on one bridge, processes started with `ip netns exec`.
 * Real processes, real TCP: a SIGKILL here is a SIGKILL, a dropped packet is a dropped packet.
 * The namespaces share the host's filesystem and PID numbering; nothing outside this file relies on it.
 */
export class LocalBackend implements Backend {
  readonly kind = "local";
  readonly capabilities = CAPABILITIES.local;
  private readonly state: RunState;
  private destroyed = false;
  private prefix: string | null = null;

  /** The members' directories: the namespaces share the host's filesystem, so each has its own here. */
  private readonly workdir: string;

  constructor(
    private readonly runId: string,
    /** Bytes of each member's own filesystem on its directory; null: the directory is on the host's. */
    private readonly options: { diskBytes: number | null } = { diskBytes: null },
  ) {
    this.workdir = mkdtempSync(join(tmpdir(), `pgchaos-${runId}-`));
    chmodSync(this.workdir, 0o755);
    this.state = {
      run_id: runId,
      harness_pid: process.pid,
      harness_started: processStartTime(process.pid) ?? undefined,
      namespaces: [],
      links: [],
      nft_tables: [],
      iptables_deletes: [],
      mounts: [],
      backing_files: [],
      workdir: this.workdir,
    };
    saveState(this.state);
  }

  private namespace(member: string): string {
    return `pgchaos-${this.runId}-${member}`;
  }

  async start(specs: MemberSpec[]): Promise<StartedBackend> {
    const prefix = await freePrefix();
    this.prefix = prefix;
    const bridge = `pcb-${this.runId}`;
    this.record(() => this.state.links.push(bridge));
    await runOk(["ip", "link", "add", bridge, "type", "bridge"]);
    await runOk(["ip", "addr", "add", `${prefix}.1/24`, "dev", bridge]);
    await runOk(["ip", "link", "set", bridge, "up"]);
    await this.acceptBridgeTraffic(bridge);
    const postgres = await postgresIds();
    const members = new Map<string, LocalMember>();
    for (const [index, spec] of specs.entries()) {
      const ns = this.namespace(spec.name);
      const hostSide = `pc${this.runId}-${index}`;
      const address = `${prefix}.${FIRST_HOST + index}`;
      this.record(() => {
        this.state.namespaces.push(ns);
        this.state.links.push(hostSide);
      });
      await runOk(["ip", "netns", "add", ns]);
      await runOk(["ip", "link", "add", hostSide, "type", "veth", "peer", "name", "eth0", "netns", ns]);
      await runOk(["ip", "link", "set", hostSide, "master", bridge, "up"]);
      await runOk(["ip", "-n", ns, "addr", "add", `${address}/24`, "dev", "eth0"]);
      await runOk(["ip", "-n", ns, "link", "set", "eth0", "up"]);
      await runOk(["ip", "-n", ns, "link", "set", "lo", "up"]);
      const dir = `${this.workdir}/${spec.name}`;
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      chownSync(dir, postgres.uid, postgres.gid);
      if (this.options.diskBytes !== null) {
        await createDisk(
          { backingFile: `${dir}.img`, mount: dir, bytes: this.options.diskBytes, ...postgres },
          {
            backingFile: (file) => this.record(() => this.state.backing_files.push(file)),
            mount: (path) => this.record(() => this.state.mounts.push(path)),
          },
        );
      }
      members.set(spec.name, new LocalMember(spec.name, ns, address, dir));
    }
    return {
      kind: this.kind,
      capabilities: this.capabilities,
      stack: await hostStack(),
      subnet: `${prefix}.0/24`,
      harnessAddress: `${prefix}.1`,
      member: (name) => {
        const member = members.get(name);
        if (!member) throw new Error(`no host for member ${name}`);
        return member;
      },
      destroy: () => this.destroy(),
    };
  }

  /**
   * Once a dockerd has run, br_netfilter plus Docker's FORWARD DROP silently drop traffic between
   * ports of any bridge (lab note pitfall 1). Accept our bridge explicitly; the rule goes at teardown.
   */
  private async acceptBridgeTraffic(bridge: string): Promise<void> {
    for (const chain of ["DOCKER-USER", "FORWARD"]) {
      const listed = await run(["iptables", "-S", chain]);
      if (listed.code !== 0) continue;
      if (chain === "FORWARD" && !listed.stdout.includes("-P FORWARD DROP")) continue;
      const rule = [
        "-i",
        bridge,
        "-o",
        bridge,
        "-m",
        "comment",
        "--comment",
        `pgchaos-${this.runId}`,
        "-j",
        "ACCEPT",
      ];
      this.record(() => this.state.iptables_deletes.push(["iptables", "-D", chain, ...rule]));
      await runOk(["iptables", "-I", chain, ...rule]);
      return;
    }
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await teardown(this.state);
    if (this.prefix) claimed.delete(this.prefix);
  }

  private record(change: () => void): void {
    change();
    saveState(this.state);
  }
}

class LocalMember implements StartedMember {
  readonly native = null;

  constructor(
    readonly name: string,
    private readonly ns: string,
    readonly address: string,
    readonly dir: string,
  ) {}

  /** Every namespace has its own network stack: each port is dialled at the member's own address. */
  endpoint(port: number) {
    return { host: this.address, port };
  }

  private inside(argv: string[], options: ExecOptions = {}): string[] {
    const asUser = options.user ? asUserArgv(options.user) : [];
    const env = options.env ? ["env", ...Object.entries(options.env).map(([k, v]) => `${k}=${v}`)] : [];
    return ["ip", "netns", "exec", this.ns, ...asUser, ...env, ...argv];
  }

  exec(argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
    return run(this.inside(argv, options), { timeoutMs: options.timeoutMs ?? 30_000 });
  }

  async spawn(spec: ProcessSpec): Promise<void> {
    const log = openSync(spec.logFile, "a");
    const [command, ...args] = ["ip", "netns", "exec", this.ns, ...asUserArgv(spec.user), ...spec.argv];
    // Own process group: a Ctrl-C at the terminal reaches the harness, which tears down in order.
    const child = spawn(command as string, args, {
      cwd: spec.cwd,
      env: spec.env,
      stdio: ["ignore", log, log],
      detached: true,
    });
    closeSync(log);
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${spec.argv[0]} on ${this.name}`);
  }

  async writeFile(path: string, content: string, options: { mode?: number; owner?: string } = {}) {
    writeFileSync(path, content, { mode: options.mode ?? 0o644 });
    if (options.owner) {
      const { uid, gid } = await postgresIds(options.owner);
      chownSync(path, uid, gid);
    }
  }

  /** `ip netns exec` bind-mounts /etc/netns/<ns>/resolv.conf over /etc/resolv.conf for what it starts. */
  async useNameServer(address: string): Promise<void> {
    const dir = join("/etc/netns", this.ns);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "resolv.conf"), `nameserver ${address}\n`);
  }

  /** The namespaces share the host's filesystem: a copy only when the member's path is another one. */
  async upload(localPath: string, path: string, options: { mode: number }): Promise<void> {
    if (resolve(localPath) !== resolve(path)) copyFileSync(localPath, path);
    chmodSync(path, options.mode);
  }

  async readFile(path: string): Promise<string | null> {
    try {
      return readFileSync(path, "utf8");
    } catch {
      return null;
    }
  }

  async processes(): Promise<MemberProcess[]> {
    const all: MemberProcess[] = [];
    for (const pid of await namespacePids(this.ns)) {
      try {
        const command = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim();
        // Fields 3 and 4 of /proc/<pid>/stat, after the parenthesised command name (which may hold spaces).
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        if (state === "Z") continue;
        all.push({ pid, ppid: Number(ppid), command });
      } catch {
        // exited meanwhile
      }
    }
    // tsx's esbuild service, started by a helper, may outlive the helper's own start.
    return systemUnderTest(all, (p) => p.command.includes(HARNESS_MODULES));
  }

  async signal(pid: number, signal: Signal): Promise<void> {
    // Only a process inside the member's own namespace: never signal anything the run did not start.
    if (!(await namespacePids(this.ns)).includes(pid))
      throw new Error(`pid ${pid} is not running on ${this.name}`);
    process.kill(pid, signal);
  }

  async signalAll(signal: Signal): Promise<number[]> {
    const pids = (await this.processes()).map((p) => p.pid);
    for (const pid of pids) {
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    }
    return pids;
  }

  async blockTraffic(name: string, rule: TrafficRule): Promise<void> {
    await this.unblockTraffic(name);
    await runOk(["ip", "netns", "exec", this.ns, "nft", "-f", "-"], {
      input: nftRuleset(nftTable(name), rule),
    });
  }

  async unblockTraffic(name: string): Promise<void> {
    await run(["ip", "netns", "exec", this.ns, "nft", "delete", "table", "inet", nftTable(name)]);
  }

  startHelper(config: string): HelperProcess {
    const argv = this.inside([process.execPath, "--import", "tsx", AGENT_MAIN, AGENT_MARKER, config]);
    // Not detached: a harness that dies takes its helpers along (the namespace teardown kills them too).
    return streamHelper(
      spawn(argv[0] as string, argv.slice(1), { cwd: PROJECT, stdio: ["ignore", "pipe", "pipe"] }),
    );
  }

  async spawnInstrument(spec: ProcessSpec): Promise<InstrumentProcess> {
    if (!spec.argv.some((arg) => arg.includes(INSTRUMENT_MARKER)))
      throw new Error(`an instrument's argv must carry ${INSTRUMENT_MARKER}: ${spec.argv.join(" ")}`);
    const log = openSync(spec.logFile, "a");
    // `ip netns exec` and setpriv exec in place: the child's PID is the instrument's own.
    const [command, ...args] = ["ip", "netns", "exec", this.ns, ...asUserArgv(spec.user), ...spec.argv];
    const child = spawn(command as string, args, {
      cwd: spec.cwd,
      env: spec.env,
      stdio: ["ignore", log, log],
      detached: true,
    });
    closeSync(log);
    child.unref();
    const pid = child.pid;
    if (pid === undefined) throw new Error(`could not start ${spec.argv[0]} on ${this.name}`);
    let exited = false;
    const gone = new Promise<void>((resolve) =>
      child.once("exit", () => {
        exited = true;
        resolve();
      }),
    );
    return {
      pid,
      running: () => !exited,
      async stop() {
        if (exited) return;
        child.kill("SIGTERM");
        if (await Promise.race([gone.then(() => true), sleep(3_000).then(() => false)])) return;
        child.kill("SIGKILL");
        await gone;
      },
    };
  }
}

/** A helper's stdout as lines, its stderr kept, and a stop that waits for it to exit. */
export function streamHelper(child: ChildProcess): HelperProcess {
  let errors = "";
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  child.stderr?.on("data", (chunk: Buffer) => {
    errors += chunk.toString();
  });
  return {
    onLine: (listener) => lines.on("line", listener),
    errors: () => errors,
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

function asUserArgv(user: string): string[] {
  return ["setpriv", `--reuid=${user}`, `--regid=${user}`, "--init-groups", "--"];
}

const userIds = new Map<string, { uid: number; gid: number }>();

async function postgresIds(user = "postgres"): Promise<{ uid: number; gid: number }> {
  let ids = userIds.get(user);
  if (!ids) {
    ids = {
      uid: Number((await runOk(["id", "-u", user])).trim()),
      gid: Number((await runOk(["id", "-g", user])).trim()),
    };
    userIds.set(user, ids);
  }
  return ids;
}

/** The host's own packages: its Debian release, its newest PostgreSQL. */
async function hostStack(): Promise<Stack> {
  const release = readFileSync("/etc/os-release", "utf8").match(/^VERSION_CODENAME=(.*)$/m)?.[1] ?? "host";
  const versions = (await run(["ls", "/usr/lib/postgresql"])).stdout
    .split(/\s+/)
    .filter((v) => /^\d+$/.test(v));
  const newest = versions.map(Number).sort((a, b) => b - a)[0] ?? 15;
  return { name: release, postgresBin: `/usr/lib/postgresql/${newest}/bin`, image: null };
}

async function namespacePids(ns: string): Promise<number[]> {
  const result = await run(["ip", "netns", "pids", ns]);
  if (result.code !== 0) return [];
  return result.stdout
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((pid) => Number.isInteger(pid) && pid > 0);
}

/**
 * Subnets this process has handed out and not yet torn down: runs made at once (--workers) would
 * otherwise both see a subnet free between the check and the bridge getting its address.
 */
const claimed = new Set<string>();

async function freePrefix(): Promise<string> {
  const used = (await runOk(["ip", "-4", "-o", "addr"])) + (await runOk(["ip", "-4", "route"]));
  const candidates = Array.from({ length: 254 }, (_, i) => i + 1).sort(() => Math.random() - 0.5);
  for (const k of candidates) {
    const prefix = `10.233.${k}`;
    if (used.includes(`${prefix}.`) || claimed.has(prefix)) continue;
    claimed.add(prefix);
    return prefix;
  }
  throw new Error("no free 10.233.x.0/24 subnet for the run's bridge");
}

/**
 * Removes every resource named in a run state: frozen filesystems thawed, then processes (by PID,
 * only those inside the run's own namespaces), nft tables, namespaces, links, iptables rules, the
 * members' own filesystems (unmounted, loop devices detached, backing files deleted) and the work directory.
 */
export async function teardown(state: RunState, keepWorkdir = false): Promise<void> {
  // A process blocked on a frozen filesystem cannot be killed until it is thawed.
  await thawDisks(state.mounts);
  // SIGKILL whatever is in the namespaces until they are empty, not once: a process killed while it
  // forks (pgpool respawning a child) can leave a child the first pass never saw, which then
  // outlives the namespace (seen in CI: a "pgpool: wait for connection request" under PID 1).
  for (let attempt = 0; attempt < 50; attempt++) {
    const remaining = (await Promise.all(state.namespaces.map(namespacePids))).flat().filter(isAlive);
    if (remaining.length === 0) break;
    for (const pid of remaining) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await sleep(100);
  }
  for (const table of state.nft_tables) await run(["nft", "delete", "table", ...table.split(" ")]);
  for (const ns of state.namespaces) {
    await run(["ip", "netns", "del", ns]);
    // `ip netns exec` bind-mounts this directory's resolv.conf; `ip netns del` leaves it.
    rmSync(join("/etc/netns", ns), { recursive: true, force: true });
  }
  // Namespace deletion is lazy and veth names can linger (lab note pitfall 8): delete links explicitly.
  for (const link of [...state.links].reverse()) {
    const exists = await run(["ip", "link", "show", link]);
    if (exists.code === 0) await run(["ip", "link", "del", link]);
  }
  for (const argv of state.iptables_deletes) await run(argv);
  await removeDisks(state.mounts, state.backing_files);
  if (state.workdir && !keepWorkdir) rmSync(state.workdir, { recursive: true, force: true });
  // The namespaces share the host's /dev/shm: the run's own segments (libfaketime's) go with it.
  const shared = sharedMemoryPrefix(state.run_id);
  for (const entry of readdirSync("/dev/shm").filter(
    (e) => e.startsWith(shared) || e.startsWith(`sem.${shared}`),
  ))
    rmSync(join("/dev/shm", entry), { force: true });
  removeState(state.run_id);
}
