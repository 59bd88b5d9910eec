import { basename } from "node:path";
import type { StartedTestContainer } from "testcontainers";
import { AGENT_MAIN, AGENT_MARKER } from "../agent/protocol.ts";
import { sleep } from "../common/clock.ts";
import type { ExecResult } from "../common/exec.ts";
import {
  type Endpoint,
  type ExecOptions,
  type HelperProcess,
  INSTRUMENT_MARKER,
  type InstrumentProcess,
  type MemberProcess,
  type NativeFaults,
  type ProcessSpec,
  type Signal,
  type StartedMember,
  type TrafficRule,
} from "./backend.ts";
import type { DockerContainer, Dockerode } from "./docker-engine.ts";
import { PID_WRAPPER, execIn, openExec, openKill, spawnIn } from "./docker-exec.ts";
import { HELPER_DIR, bundle, runHelper } from "./docker-helper.ts";
import {
  PS,
  blockTrafficByExec,
  parseProcesses,
  readFileByExec,
  unblockTrafficByExec,
} from "./exec-member.ts";
import { systemUnderTest } from "./instruments.ts";

/** One container as one host: PID 1 is docker-init, its child `sleep infinity` keeps it up. */
export class DockerMember implements StartedMember {
  readonly native: NativeFaults;
  private ports: Map<number, number>;
  private readonly helpers = new Map<string, Promise<string>>();

  constructor(
    readonly name: string,
    readonly address: string,
    readonly dir: string,
    private readonly started: StartedTestContainer,
    private readonly container: DockerContainer,
    private readonly network: ReturnType<Dockerode["getNetwork"]>,
    private readonly keeperPid: number,
    ports: Map<number, number>,
    /** `dir` is a tmpfs mount, which Docker's copy into a container cannot write to. */
    private readonly dirIsTmpfs: boolean,
    /** Whether the member's network is routed on this machine (see `endpoint`). */
    private readonly routedHere: () => boolean,
  ) {
    this.ports = ports;
    this.native = {
      pause: () => this.container.pause(),
      unpause: () => this.container.unpause(),
      disconnect: () => this.network.disconnect({ Container: this.container.id, Force: true }),
      reconnect: () => this.reconnect(),
    };
  }

  /**
   * On an engine of this machine, the member's own address: its network is routed here, and a dead
   * member then refuses connections as a host would. Through a published port, docker-proxy accepts
   * the connection and only then closes it, and libpq gives up on a multi-host URI at that first host
   * ("server closed the connection unexpectedly") instead of trying the next. On a remote engine,
   * the engine's host and the port Docker mapped there (re-read after a reconnect). Not testcontainers'
   * `getHost()`: inside a container (a CI runner's /.dockerenv) it names the default bridge's gateway
   * even for an engine on this very machine.
   */
  endpoint(port: number): Endpoint {
    const mapped = this.ports.get(port);
    if (mapped === undefined)
      throw new Error(`port ${port} of ${this.name} is not published (MemberSpec.ports)`);
    return this.routedHere() ? { host: this.address, port } : { host: this.started.getHost(), port: mapped };
  }

  exec(argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
    return execIn(this.container, argv, options);
  }

  spawn(spec: ProcessSpec): Promise<void> {
    return spawnIn(this.container, spec.argv, spec.logFile, {
      user: spec.user,
      env: spec.env,
      cwd: spec.cwd,
    });
  }

  async writeFile(path: string, content: string, options: { mode?: number; owner?: string } = {}) {
    const target = this.staged(path);
    await this.started.copyContentToContainer([{ content, target, mode: options.mode ?? 0o644 }]);
    await this.settle(target, path);
    if (options.owner) await this.execOk(["chown", `${options.owner}:`, path]);
  }

  async upload(localPath: string, path: string, options: { mode: number }): Promise<void> {
    const target = this.staged(path);
    await this.started.copyFilesToContainer([{ source: localPath, target, mode: options.mode }]);
    await this.settle(target, path);
  }

  /**
   * Docker copies into the container's own filesystem, under any mount at that path: a file meant
   * for a tmpfs (the member's `dir` when it has a disk, /dev/shm for libfaketime's clock) goes to a
   * staging path first and is moved in from inside the member.
   */
  private uploads = 0;
  private staged(path: string): string {
    const under = (dir: string) => path === dir || path.startsWith(`${dir}/`);
    if (!under("/dev/shm") && !(this.dirIsTmpfs && under(this.dir))) return path;
    return `/var/tmp/pgchaos-staged-${process.pid}-${++this.uploads}`;
  }

  private async settle(staged: string, path: string): Promise<void> {
    if (staged !== path) await this.execOk(["mv", "-f", staged, path]);
  }

  readFile(path: string): Promise<string | null> {
    return readFileByExec((argv) => this.exec(argv), this.name, path);
  }

  async processes(): Promise<MemberProcess[]> {
    const all = parseProcesses(await this.execOk(PS));
    // Not the host itself (PID 1, the keeper), nor the listing's own ps or an exec wrapper caught before it execs.
    return systemUnderTest(
      all,
      (p) =>
        p.pid === 1 ||
        p.pid === this.keeperPid ||
        p.command === PS.join(" ") ||
        p.command.startsWith(`sh -c ${PID_WRAPPER}`),
    );
  }

  async signal(pid: number, signal: Signal): Promise<void> {
    // Only a process of the system under test: never the keeper, a helper, or the sshd.
    if (!(await this.processes()).some((p) => p.pid === pid)) {
      throw new Error(`pid ${pid} is not running on ${this.name}`);
    }
    await this.execOk(["kill", "-s", signal.slice(3), String(pid)]);
  }

  async signalAll(signal: Signal): Promise<number[]> {
    const pids = (await this.processes()).map((p) => p.pid);
    // Some may exit in between: kill(1) still signals the rest.
    if (pids.length > 0) await openKill(this.container, ["-s", signal.slice(3), ...pids.map(String)]);
    return pids;
  }

  blockTraffic(name: string, rule: TrafficRule): Promise<void> {
    return blockTrafficByExec((argv) => this.execOk(argv), name, rule);
  }

  unblockTraffic(name: string): Promise<void> {
    return unblockTrafficByExec((argv) => this.exec(argv), this.name, name);
  }

  /** `entry` is for tests only: production always runs the agent. */
  startHelper(config: string, entry = AGENT_MAIN): HelperProcess {
    return runHelper(this.container, () => this.install(entry), config);
  }

  /** Refused: validation keeps the dns entry point off this backend (no "resolver" capability). */
  async useNameServer(): Promise<void> {
    throw new Error(
      "the docker backend has no resolver of a member's own yet (the dns entry point runs on the local backend)",
    );
  }

  /**
   * An exec kept attached for the instrument's life: its PID comes from the wrapper, its end from
   * the exec's. Output goes to the log inside the member (the shell execs in place: one PID).
   */
  async spawnInstrument(spec: ProcessSpec): Promise<InstrumentProcess> {
    if (!spec.argv.some((arg) => arg.includes(INSTRUMENT_MARKER)))
      throw new Error(`an instrument's argv must carry ${INSTRUMENT_MARKER}: ${spec.argv.join(" ")}`);
    const logged = ["sh", "-c", 'log=$1; shift; exec "$@" >>"$log" 2>&1 </dev/null', "sh", spec.logFile];
    const running = await openExec(
      this.container,
      [...logged, ...spec.argv],
      { user: spec.user, env: spec.env, cwd: spec.cwd },
      () => {},
      () => {},
    );
    const pid = await running.pid;
    if (pid === null) throw new Error(`could not start ${spec.argv[0]} on ${this.name}`);
    let exited = false;
    const gone = running.exited.then(() => {
      exited = true;
    });
    const container = this.container;
    return {
      pid,
      running: () => !exited,
      async stop() {
        if (exited) return;
        await openKill(container, ["-TERM", String(pid)]);
        if (await Promise.race([gone.then(() => true), sleep(3_000).then(() => false)])) return;
        await openKill(container, ["-KILL", String(pid)]);
        await Promise.race([gone, sleep(3_000)]);
      },
    };
  }

  /** Copies a bundle in once per member; the marker in its name makes it an instrument in processes(). */
  private install(entry: string): Promise<string> {
    let installed = this.helpers.get(entry);
    if (!installed) {
      const file = entry === AGENT_MAIN ? AGENT_MARKER : `${AGENT_MARKER}-${basename(entry, ".ts")}`;
      const path = `${HELPER_DIR}/${file}.mjs`;
      installed = bundle(entry)
        .then((code) => this.writeFile(path, code))
        .then(() => path);
      installed.catch(() => this.helpers.delete(entry));
      this.helpers.set(entry, installed);
    }
    return installed;
  }

  /** With its old address (peers have it in their configs); Docker maps its ports anew. */
  private async reconnect(): Promise<void> {
    await this.network.connect({
      Container: this.container.id,
      EndpointConfig: { IPAMConfig: { IPv4Address: this.address } },
    });
    this.ports = await mappedPorts(this.container);
  }

  private async execOk(argv: string[]): Promise<string> {
    const result = await this.exec(argv);
    if (result.code !== 0) {
      throw new Error(`${argv[0]} on ${this.name} exited ${result.code}: ${result.stderr.trim()}`);
    }
    return result.stdout;
  }
}

/** Published ports, container port → host port, from the engine (the IPv4 binding first). */
export async function mappedPorts(container: DockerContainer): Promise<Map<number, number>> {
  const bindings = (await container.inspect()).NetworkSettings.Ports ?? {};
  const ports = new Map<number, number>();
  for (const [key, hosts] of Object.entries(bindings)) {
    const [port, protocol] = key.split("/");
    const host = hosts?.find((h) => !h.HostIp.includes(":")) ?? hosts?.[0];
    if (protocol === "tcp" && host) ports.set(Number(port), Number(host.HostPort));
  }
  return ports;
}
