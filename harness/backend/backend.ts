import type { ExecResult } from "../common/exec.ts";
import type { Stack } from "../model/record.ts";
import type { BackendKind } from "../model/scenario.ts";

/**
 * Where members live and how to reach them, in the testcontainers shape: a `Backend` is only a
 * builder; `start()` returns the `StartedBackend` whose members are the only things topologies and
 * faults can touch. Nothing is shared with the harness's filesystem: files go in and out through
 * the member, commands run in the member, PIDs are the member's own.
 */

/**
 * What a backend can do to its members. Faults declare what they need, and `pgchaos validate`
 * rejects a scenario whose fault its backend cannot do (like a target a topology cannot have).
 */
export type Capability =
  /** Signals to the member's processes (kill, freeze, crash-postgres, stop). */
  | "signals"
  /** Packet filtering inside the member's own network stack (partition, packet-loss). */
  | "firewall"
  /** Freezing the whole member from outside (Docker's pause: the cgroup freezer). */
  | "pause"
  /** Taking the member off the network altogether (Docker's network disconnect). */
  | "disconnect"
  /** Routing chosen links through a Toxiproxy of the harness's own (latency, reset-peer). */
  | "proxy"
  /** Kernel traffic shaping on the member's interface (tc htb: bandwidth). */
  | "shaping"
  /** A size-limited filesystem of the member's own under its data directory (disk-full). */
  | "disk"
  /** That filesystem can be frozen (fsfreeze needs a block device's: a loop-mounted ext4, not a tmpfs). */
  | "freeze-disk"
  /** Processes started with libfaketime, their clock movable at run time (clock-skew). */
  | "faketime"
  /** A resolver of the member's own for the processes started in it (the dns entry point's clients). */
  | "resolver";

/** What each backend can do, known before anything starts, so validation can refuse a scenario early. */
export const CAPABILITIES: Record<BackendKind, ReadonlySet<Capability>> = {
  local: new Set(["signals", "firewall", "faketime", "disk", "freeze-disk", "proxy", "shaping", "resolver"]),
  docker: new Set(["signals", "firewall", "pause", "disconnect", "disk", "proxy", "shaping", "faketime"]),
  // Someone else's hosts: signals and nftables over SSH; nothing pgchaos would have had to set up itself.
  ssh: new Set(["signals", "firewall"]),
  // Pods on a node of the run's own: signals and processes through the API's exec, nftables in the
  // Pod's own network namespace (its container has NET_ADMIN); the rest of issue 27 comes later.
  kubernetes: new Set(["signals", "firewall"]),
};

export type Signal = "SIGKILL" | "SIGSTOP" | "SIGCONT" | "SIGTERM";

/** A long-running process of a member (an HA agent, a DCS member, a proxy), started in the member. */
export interface ProcessSpec {
  argv: string[];
  /** Unix user to run as: PostgreSQL refuses root. */
  user: string;
  env: Record<string, string>;
  cwd: string;
  /** Path inside the member: stdout and stderr are appended there. */
  logFile: string;
}

/** A process of the system under test, its PIDs as the member itself numbers them. */
export interface MemberProcess {
  pid: number;
  ppid: number;
  command: string;
}

/** Host and port the harness dials to reach a member's port (not necessarily the member's address). */
export interface Endpoint {
  host: string;
  port: number;
}

/**
 * Packets a member's own network stack drops: everything (isolate), to and/or from some peers'
 * addresses, or a random share both ways. Loopback is never touched.
 */
export type TrafficRule =
  | { kind: "isolate" }
  | { kind: "drop"; from: string[]; to: string[] }
  | { kind: "loss"; percent: number };

export interface ExecOptions {
  /** Unix user to run as; root when absent. */
  user?: string;
  timeoutMs?: number;
  env?: Record<string, string>;
}

/** A helper process of the harness's own running in a member (placed writers, inside observers). */
export interface HelperProcess {
  /** Called with every line the helper prints on stdout. */
  onLine(listener: (line: string) => void): void;
  /** Everything it printed on stderr so far. */
  errors(): string;
  /** SIGTERM, then resolves once it has exited. */
  stop(): Promise<void>;
}

/** What a backend offers only natively (Docker's pause and network disconnect); null elsewhere. */
export interface NativeFaults {
  pause(): Promise<void>;
  unpause(): Promise<void>;
  disconnect(): Promise<void>;
  reconnect(): Promise<void>;
}

/** One started member: a host of its own with an address, a filesystem and processes. */
export interface StartedMember {
  readonly name: string;
  /** The address other members reach it at (what goes in configs, and what pg_stat_replication shows). */
  readonly address: string;
  /** A directory of its own, inside the member, owned by postgres. */
  readonly dir: string;
  /** What the harness dials for one of the member's ports. */
  endpoint(port: number): Endpoint;
  exec(argv: string[], options?: ExecOptions): Promise<ExecResult>;
  /** Starts a long-running process and returns once it is launched. */
  spawn(spec: ProcessSpec): Promise<void>;
  writeFile(path: string, content: string, options?: { mode?: number; owner?: string }): Promise<void>;
  /** Copies a file of the harness's own host into the member (an instrument's binary), like Jepsen's upload!. */
  upload(localPath: string, path: string, options: { mode: number }): Promise<void>;
  /** A file's content, or null when it does not exist. */
  readFile(path: string): Promise<string | null>;
  /** Processes of the system under test (never the harness's own helpers or the member's sshd). */
  processes(): Promise<MemberProcess[]>;
  /** One process, by the member's own PID; fails when no such process runs there. */
  signal(pid: number, signal: Signal): Promise<void>;
  /** Every process of the system under test; returns the PIDs signalled. */
  signalAll(signal: Signal): Promise<number[]>;
  /** Loads a named packet filter into the member's network stack, replacing one of the same name. */
  blockTraffic(name: string, rule: TrafficRule): Promise<void>;
  /** Removes a filter blockTraffic loaded; a no-op when it is not there. */
  unblockTraffic(name: string): Promise<void>;
  /** Runs the harness's agent (harness/agent/main.ts) inside the member with this JSON config. */
  startHelper(config: string): HelperProcess;
  /** The backend's own whole-member faults, when it has them (see Capability). */
  readonly native: NativeFaults | null;
  /**
   * Starts a long-running process of the harness's own in the member (a link fault's Toxiproxy).
   * Its argv must carry INSTRUMENT_MARKER: it is never one of processes(), so no fault signals it;
   * stop() ends it, and teardown removes it with the member after a crash.
   */
  spawnInstrument(spec: ProcessSpec): Promise<InstrumentProcess>;
  /**
   * Processes started in the member from now on resolve names through the DNS server at this
   * address, as the member's resolv.conf says (capability "resolver").
   */
  useNameServer(address: string): Promise<void>;
}

/** A process spawnInstrument started, by the member's own PID. */
export interface InstrumentProcess {
  readonly pid: number;
  /** False once it has exited (crashed, or stopped). */
  running(): boolean;
  /** SIGTERM, SIGKILL after a grace period; resolves once it has exited. */
  stop(): Promise<void>;
}

/** Members as the backend creates them: one host each. */
export interface MemberSpec {
  name: string;
  /** Ports the harness must be able to dial (PostgreSQL, REST APIs). */
  ports: number[];
}

export interface StartedBackend {
  readonly kind: BackendKind;
  readonly capabilities: ReadonlySet<Capability>;
  readonly stack: Stack;
  /** CIDR of the network every member shares (for pg_hba and similar). */
  readonly subnet: string;
  /** The address members see the harness's own connections come from ("clients" in partitions). */
  readonly harnessAddress: string;
  member(name: string): StartedMember;
  /** Removes everything this backend created. Idempotent; safe to call from a signal handler. */
  destroy(): Promise<void>;
}

export interface Backend {
  readonly kind: BackendKind;
  readonly capabilities: ReadonlySet<Capability>;
  /** Creates one isolated host per member, reachable from the harness. */
  start(members: MemberSpec[]): Promise<StartedBackend>;
  /** Removes whatever start() has created so far (a Ctrl-C can come before start() returns). */
  destroy(): Promise<void>;
}

/**
 * In the config path of an sshd the harness starts as part of a member's host (like its kernel),
 * not of the system under test: faults never signal it, teardown removes it with the member.
 */
export const SSHD_MARKER = "pgchaos-sshd.conf";

/**
 * Ports an instrument's API may listen on (Toxiproxy's): a backend that reaches members through
 * published ports publishes these on every member, so the harness can dial whichever one it takes.
 */
export const INSTRUMENT_API_PORTS = [20990, 20991, 20992, 20993, 20994, 20995, 20996, 20997] as const;

/** In the argv of every process spawnInstrument starts: an instrument, never the system under test. */
export const INSTRUMENT_MARKER = "pgchaos-instrument";

/** Names of the POSIX shared memory a run creates (libfaketime's): its teardown removes them. */
export function sharedMemoryPrefix(runId: string): string {
  return `pgchaos-${runId}-`;
}
