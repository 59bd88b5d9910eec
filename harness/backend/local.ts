import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AGENT_MARKER } from "../agent/protocol.ts";
import { sleep } from "../common/clock.ts";
import { type ExecResult, run, runOk } from "../common/exec.ts";
import type { Backend, HostProcess, HostSignal, ProcessSpec } from "./backend.ts";
import {
  SSHD_BINARY,
  SSHD_MARKER,
  createSshKeys,
  requireSshd,
  sshClientOptions,
  sshdConfig,
  waitForSshd,
} from "./sshd.ts";
import { type RunState, isAlive, removeState, saveState } from "./state.ts";

/** Binaries of the harness's own dependencies (tsx's esbuild service may outlive its agent's start). */
const HARNESS_MODULES = fileURLToPath(new URL("../../node_modules/", import.meta.url));

/** First host address in the run's /24; .1 is the bridge (the harness's side). */
const FIRST_HOST = 11;

/**
 * Members as Linux network namespaces on one bridge, processes started with `ip netns exec`.
 * Real processes, real TCP: a SIGKILL here is a SIGKILL, a dropped packet is a dropped packet.
 */
export class LocalBackend implements Backend {
  readonly kind = "local";
  private readonly addresses = new Map<string, string>();
  private readonly state: RunState;
  private prefix = "";
  private destroyed = false;

  constructor(
    private readonly runId: string,
    workdir: string,
  ) {
    this.state = {
      run_id: runId,
      harness_pid: process.pid,
      namespaces: [],
      links: [],
      nft_tables: [],
      iptables_deletes: [],
      workdir,
    };
  }

  get harnessAddress(): string {
    return `${this.prefix}.1`;
  }

  get subnet(): string {
    return `${this.prefix}.0/24`;
  }

  private bridge(): string {
    return `pcb-${this.runId}`;
  }

  namespace(member: string): string {
    return `pgchaos-${this.runId}-${member}`;
  }

  async createHosts(members: string[]): Promise<void> {
    this.prefix = await freePrefix();
    const bridge = this.bridge();
    this.record(() => this.state.links.push(bridge));
    await runOk(["ip", "link", "add", bridge, "type", "bridge"]);
    await runOk(["ip", "addr", "add", `${this.prefix}.1/24`, "dev", bridge]);
    await runOk(["ip", "link", "set", bridge, "up"]);
    await this.acceptBridgeTraffic(bridge);
    let index = 0;
    for (const member of members) {
      const ns = this.namespace(member);
      const hostSide = `pc${this.runId}-${index}`;
      const address = `${this.prefix}.${FIRST_HOST + index}`;
      index += 1;
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
      this.addresses.set(member, address);
    }
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

  address(member: string): string {
    const address = this.addresses.get(member);
    if (!address) throw new Error(`no host for member ${member}`);
    return address;
  }

  async spawn(spec: ProcessSpec): Promise<number> {
    const log = openSync(spec.logFile, "a");
    const child = spawn(
      "ip",
      [
        "netns",
        "exec",
        this.namespace(spec.member),
        "setpriv",
        `--reuid=${spec.user}`,
        `--regid=${spec.user}`,
        "--init-groups",
        "--",
        ...spec.argv,
      ],
      // Own process group: a Ctrl-C at the terminal reaches the harness, which tears down in order.
      { cwd: spec.cwd, env: spec.env, stdio: ["ignore", log, log], detached: true },
    );
    closeSync(log);
    child.unref();
    const pid = child.pid;
    if (pid === undefined) throw new Error(`could not start ${spec.argv[0]} on ${spec.member}`);
    return pid;
  }

  commandOn(member: string, argv: string[]): string[] {
    return ["ip", "netns", "exec", this.namespace(member), ...argv];
  }

  exec(
    member: string,
    argv: string[],
    options: { user?: string; timeoutMs?: number } = {},
  ): Promise<ExecResult> {
    const asUser = options.user
      ? ["setpriv", `--reuid=${options.user}`, `--regid=${options.user}`, "--init-groups", "--"]
      : [];
    return run(["ip", "netns", "exec", this.namespace(member), ...asUser, ...argv], {
      timeoutMs: options.timeoutMs ?? 30_000,
    });
  }

  async applyFirewall(member: string, table: string, ruleset: string): Promise<void> {
    await this.removeFirewall(member, table);
    await runOk(["ip", "netns", "exec", this.namespace(member), "nft", "-f", "-"], { input: ruleset });
  }

  async removeFirewall(member: string, table: string): Promise<void> {
    await run(["ip", "netns", "exec", this.namespace(member), "nft", "delete", "table", "inet", table]);
  }

  async processes(member: string): Promise<HostProcess[]> {
    const all: HostProcess[] = [];
    for (const pid of await namespacePids(this.namespace(member))) {
      try {
        const command = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim();
        // Field 4 of /proc/<pid>/stat, after the parenthesised command name (which may hold spaces).
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        all.push({ pid, ppid, command });
      } catch {
        // exited meanwhile
      }
    }
    // The harness's own helpers (writers, observers placed on the member) and everything they start
    // (tsx's esbuild service) are instruments, not the system under test: faults never signal them,
    // and a clean stop does not wait for them; teardown still removes them. So is the sshd that
    // stands for the host's remote shell (the commands run through it are not: they are repmgr's).
    const instruments = new Set(
      all
        .filter((p) => [AGENT_MARKER, SSHD_MARKER, HARNESS_MODULES].some((mark) => p.command.includes(mark)))
        .map((p) => p.pid),
    );
    const agents = all.filter((p) => p.command.includes(AGENT_MARKER)).map((p) => p.pid);
    const descendants = new Set(agents);
    for (let grew = true; grew; ) {
      grew = false;
      for (const p of all) {
        if (!descendants.has(p.pid) && descendants.has(p.ppid)) {
          descendants.add(p.pid);
          grew = true;
        }
      }
    }
    return all.filter((p) => !instruments.has(p.pid) && !descendants.has(p.pid));
  }

  async signalProcess(member: string, pid: number, signal: HostSignal): Promise<void> {
    // Only a process inside the member's own namespace: never signal anything the run did not start.
    if (!(await namespacePids(this.namespace(member))).includes(pid)) {
      throw new Error(`pid ${pid} is not running on ${member}`);
    }
    process.kill(pid, signal);
  }

  async signalHost(member: string, signal: HostSignal): Promise<number[]> {
    const pids = (await this.processes(member)).map((p) => p.pid);
    for (const pid of pids) {
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    }
    return pids;
  }

  /** One sshd per member's namespace, run as root like a host's own, admitting only the run's key. */
  async openShellAccess(members: string[], user: string): Promise<string[]> {
    await requireSshd();
    const workdir = this.state.workdir;
    if (!workdir) throw new Error("shell access needs the run's work directory");
    const keys = await createSshKeys(join(workdir, "ssh"), user);
    for (const member of members) {
      const config = join(workdir, "ssh", `${member}-${SSHD_MARKER}`);
      writeFileSync(config, sshdConfig(keys, this.address(member), user));
      await this.spawn({
        member,
        argv: [SSHD_BINARY, "-D", "-e", "-f", config],
        user: "root",
        env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
        cwd: "/",
        logFile: join(workdir, "ssh", `${member}-sshd.log`),
      });
    }
    for (const member of members) {
      await waitForSshd(async (argv) => (await this.exec(member, argv)).code, this.address(member));
    }
    return sshClientOptions(keys);
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await teardown(this.state);
  }

  private record(change: () => void): void {
    change();
    saveState(this.state);
  }
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

async function freePrefix(): Promise<string> {
  const used = (await runOk(["ip", "-4", "-o", "addr"])) + (await runOk(["ip", "-4", "route"]));
  const candidates = Array.from({ length: 254 }, (_, i) => i + 1).sort(() => Math.random() - 0.5);
  for (const k of candidates) {
    const prefix = `10.233.${k}`;
    if (!used.includes(`${prefix}.`)) return prefix;
  }
  throw new Error("no free 10.233.x.0/24 subnet for the run's bridge");
}

/**
 * Removes every resource named in a run state: processes first (by PID, only those inside the
 * run's own namespaces), then nft tables, namespaces, links, iptables rules and the work directory.
 */
export async function teardown(state: RunState, keepWorkdir = false): Promise<void> {
  for (const ns of state.namespaces) {
    for (const pid of await namespacePids(ns)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
  // SIGKILL is asynchronous: wait until the namespaces are empty before deleting them.
  for (let attempt = 0; attempt < 50; attempt++) {
    const remaining = (await Promise.all(state.namespaces.map(namespacePids))).flat().filter(isAlive);
    if (remaining.length === 0) break;
    await sleep(100);
  }
  for (const table of state.nft_tables) await run(["nft", "delete", "table", ...table.split(" ")]);
  for (const ns of state.namespaces) await run(["ip", "netns", "del", ns]);
  // Namespace deletion is lazy and veth names can linger (lab note pitfall 8): delete links explicitly.
  for (const link of [...state.links].reverse()) {
    const exists = await run(["ip", "link", "show", link]);
    if (exists.code === 0) await run(["ip", "link", "del", link]);
  }
  for (const argv of state.iptables_deletes) await run(argv);
  if (state.workdir && !keepWorkdir) rmSync(state.workdir, { recursive: true, force: true });
  removeState(state.run_id);
}
