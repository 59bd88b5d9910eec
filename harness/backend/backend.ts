import type { ExecResult } from "../common/exec.ts";

/** A long-running process of a member (an HA agent, a DCS member), started in the member's place. */
export interface ProcessSpec {
  member: string;
  argv: string[];
  /** Unix user to run as: PostgreSQL refuses root. */
  user: string;
  env: Record<string, string>;
  cwd: string;
  /** stdout and stderr are appended here. */
  logFile: string;
}

export interface HostProcess {
  pid: number;
  ppid: number;
  command: string;
}

export type HostSignal = "SIGKILL" | "SIGSTOP" | "SIGCONT" | "SIGTERM";

/**
 * Where members live and how to reach them. Topologies and faults talk only to this interface,
 * so they never know whether a member is a network namespace, a container or a pod.
 */
export interface Backend {
  readonly kind: string;
  /** Creates one isolated host per member, reachable from the harness. */
  createHosts(members: string[]): Promise<void>;
  /** IP address of a member's host, as the harness and other members reach it. */
  address(member: string): string;
  /** CIDR of the network all members share (for pg_hba and similar). */
  readonly subnet: string;
  /** Starts a process on a member's host; returns its PID. */
  spawn(spec: ProcessSpec): Promise<number>;
  /** The argv that runs a command as root on a member's host (for helper processes the harness streams from). */
  commandOn(member: string, argv: string[]): string[];
  /** Runs a command on a member's host to completion. */
  exec(member: string, argv: string[], options?: { user?: string; timeoutMs?: number }): Promise<ExecResult>;
  /**
   * Loads an nftables table (`table inet <name> { … }`) into a member's own network stack, so a
   * fault drops exactly that member's packets; replaces a table of the same name.
   */
  applyFirewall(member: string, table: string, ruleset: string): Promise<void>;
  /** Removes a table applyFirewall loaded; a no-op when it is not there. */
  removeFirewall(member: string, table: string): Promise<void>;
  /** Address the harness itself (clients, observers) uses on the members' network. */
  readonly harnessAddress: string;
  /** Sends a signal to every process of the system under test on a member's host; returns the PIDs signalled. */
  signalHost(member: string, signal: HostSignal): Promise<number[]>;
  /** Processes of the system under test on a member's host (not the harness's agents), with parent and command line. */
  processes(member: string): Promise<HostProcess[]>;
  /** Sends a signal to one process on a member's host, by PID (e.g. a postmaster). */
  signalProcess(member: string, pid: number, signal: HostSignal): Promise<void>;
  /**
   * Lets `user` on every listed member run commands on the others over SSH, as repmgr's switchover
   * does; returns the ssh client options that reach them (the run's key, no host-key prompts).
   */
  openShellAccess(members: string[], user: string): Promise<string[]>;
  /** Removes everything this backend created. Idempotent; safe to call from a signal handler. */
  destroy(): Promise<void>;
}
