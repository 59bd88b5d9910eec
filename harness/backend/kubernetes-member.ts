import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { StringDecoder } from "node:string_decoder";
import { AGENT_MAIN, AGENT_MARKER } from "../agent/protocol.ts";
import type { ExecResult } from "../common/exec.ts";
import type {
  Endpoint,
  ExecOptions,
  HelperProcess,
  InstrumentProcess,
  MemberProcess,
  ProcessSpec,
  Signal,
  StartedMember,
  TrafficRule,
} from "./backend.ts";
import type { RunningExec } from "./docker-exec.ts";
import { HELPER_DIR, bundle } from "./docker-helper.ts";
import {
  PS,
  blockTrafficByExec,
  parseProcesses,
  readFileByExec,
  unblockTrafficByExec,
} from "./exec-member.ts";
import { systemUnderTest } from "./instruments.ts";
import { POD_WRAPPER, type PodRef, openPodExec, podExec, podKill } from "./kubernetes-exec.ts";

/** A helper that ignores SIGTERM this long is killed. */
const STOP_GRACE_MS = 30_000;

/**
 * One Pod as one host, in the Docker member's shape: the Pod shares one PID namespace, so its PID 1
 * is the sandbox's pause process, which reaps what HA software orphans (as docker-init does), and
 * the container's `sleep infinity` keeps the Pod up. Everything else starts later through exec.
 */
export class KubernetesMember implements StartedMember {
  /** Pods have no pause or disconnect of Docker's kind; a Pod-level fault is its own capability (later). */
  readonly native = null;
  private readonly helpers = new Map<string, Promise<string>>();

  constructor(
    readonly name: string,
    readonly address: string,
    readonly dir: string,
    private readonly ref: PodRef,
    private readonly keeperPid: number,
  ) {}

  /** The Pod's own address: the node answers ARP for it on the run's network (kubernetes-node.ts). */
  endpoint(port: number): Endpoint {
    return { host: this.address, port };
  }

  exec(argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
    return podExec(this.ref, argv, options);
  }

  /** Forked into a session of its own and re-parented to the Pod's PID 1 (see the Docker backend's spawnIn). */
  async spawn(spec: ProcessSpec): Promise<void> {
    const script = `log=$1; shift
command -v "$1" >/dev/null || { echo "$1: command not found" >&2; exit 127; }
exec setsid -f "$@" >>"$log" 2>&1 </dev/null`;
    const result = await podExec(this.ref, ["sh", "-c", script, "sh", spec.logFile, ...spec.argv], {
      user: spec.user,
      env: spec.env,
      cwd: spec.cwd,
    });
    if (result.code !== 0)
      throw new Error(`could not start ${spec.argv[0]} (exit ${result.code}): ${result.stderr.trim()}`);
  }

  async writeFile(path: string, content: string, options: { mode?: number; owner?: string } = {}) {
    await this.put(path, Buffer.from(content), options.mode ?? 0o644);
    if (options.owner) await this.execOk(["chown", `${options.owner}:`, path]);
  }

  async upload(localPath: string, path: string, options: { mode: number }): Promise<void> {
    await this.put(path, await readFile(localPath), options.mode);
  }

  /** Through the exec's stdin, into a file beside the target, then renamed: a reader never sees half. */
  private async put(path: string, content: Buffer, mode: number): Promise<void> {
    const script = 'tmp="$1.pgchaos-$$"; cat >"$tmp" && chmod "$2" "$tmp" && exec mv -f "$tmp" "$1"';
    const result = await podExec(this.ref, ["sh", "-c", script, "sh", path, mode.toString(8)], {
      stdin: content,
      timeoutMs: 60_000,
    });
    if (result.code !== 0)
      throw new Error(`cannot write ${path} on ${this.name} (exit ${result.code}): ${result.stderr.trim()}`);
  }

  readFile(path: string): Promise<string | null> {
    return readFileByExec((argv) => this.exec(argv), this.name, path);
  }

  async processes(): Promise<MemberProcess[]> {
    const all = parseProcesses(await this.execOk(PS));
    // Not the Pod itself (pause as PID 1, the keeper), nor the listing's own ps or a wrapper caught before it execs.
    return systemUnderTest(
      all,
      (p) =>
        p.pid === 1 ||
        p.pid === this.keeperPid ||
        p.command === PS.join(" ") ||
        p.command.startsWith(`sh -c ${POD_WRAPPER.split("\n")[0]}`),
    );
  }

  async signal(pid: number, signal: Signal): Promise<void> {
    if (!(await this.processes()).some((p) => p.pid === pid)) {
      throw new Error(`pid ${pid} is not running on ${this.name}`);
    }
    await this.execOk(["kill", "-s", signal.slice(3), String(pid)]);
  }

  async signalAll(signal: Signal): Promise<number[]> {
    const pids = (await this.processes()).map((p) => p.pid);
    if (pids.length > 0) await podKill(this.ref, ["-s", signal.slice(3), ...pids.map(String)]);
    return pids;
  }

  /** nftables in the Pod's own network namespace (its container has NET_ADMIN), as on Docker. */
  blockTraffic(name: string, rule: TrafficRule): Promise<void> {
    return blockTrafficByExec((argv) => this.execOk(argv), name, rule);
  }

  unblockTraffic(name: string): Promise<void> {
    return unblockTrafficByExec((argv) => this.exec(argv), this.name, name);
  }

  /** `entry` is for tests only: production always runs the agent. */
  startHelper(config: string, entry = AGENT_MAIN): HelperProcess {
    const listeners: ((line: string) => void)[] = [];
    const decoder = new StringDecoder("utf8");
    let partial = "";
    let errors = "";
    const stdout = (chunk: Buffer) => {
      const lines = (partial + decoder.write(chunk)).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) for (const listener of listeners) listener(line);
    };
    const running: Promise<RunningExec | null> = this.install(entry)
      .then((path) =>
        openPodExec(this.ref, ["node", path, AGENT_MARKER, config], {}, stdout, (chunk) => {
          errors += chunk.toString();
        }),
      )
      .catch((error: unknown) => {
        errors += `could not start the helper: ${error instanceof Error ? error.message : String(error)}\n`;
        return null;
      });
    void running.then((exec) =>
      exec?.exited.then(() => {
        const rest = partial + decoder.end();
        if (rest) for (const listener of listeners) listener(rest);
      }),
    );
    const ref = this.ref;
    return {
      onLine: (listener) => listeners.push(listener),
      errors: () => errors,
      async stop() {
        const exec = await running;
        if (!exec) return;
        const pid = await exec.pid;
        if (pid === null) return void (await exec.exited);
        await podKill(ref, ["-TERM", String(pid)]);
        const timer = setTimeout(() => {
          errors += `helper ignored SIGTERM for ${STOP_GRACE_MS} ms: killed\n`;
          void podKill(ref, ["-KILL", String(pid)]).finally(() => exec.abandon(137));
        }, STOP_GRACE_MS);
        await exec.exited;
        clearTimeout(timer);
      },
    };
  }

  /** Refused: validation keeps link faults off this backend (no "proxy" capability yet). */
  async spawnInstrument(): Promise<InstrumentProcess> {
    throw new Error("the kubernetes backend runs no instruments in Pods yet (no link faults)");
  }

  /** Refused: validation keeps the dns entry point off this backend (no "resolver" capability). */
  async useNameServer(): Promise<void> {
    throw new Error("the kubernetes backend has no resolver of a member's own yet");
  }

  private install(entry: string): Promise<string> {
    let installed = this.helpers.get(entry);
    if (!installed) {
      const file = entry === AGENT_MAIN ? AGENT_MARKER : `${AGENT_MARKER}-${basename(entry, ".ts")}`;
      const path = `${HELPER_DIR}/${file}.mjs`;
      installed = bundle(entry)
        .then((code) => this.execOk(["mkdir", "-p", HELPER_DIR]).then(() => this.writeFile(path, code)))
        .then(() => path);
      installed.catch(() => this.helpers.delete(entry));
      this.helpers.set(entry, installed);
    }
    return installed;
  }

  private async execOk(argv: string[]): Promise<string> {
    const result = await this.exec(argv);
    if (result.code !== 0) {
      throw new Error(`${argv[0]} on ${this.name} exited ${result.code}: ${result.stderr.trim()}`);
    }
    return result.stdout;
  }
}
