import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  createReadStream,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { StringDecoder } from "node:string_decoder";
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
  type ProcessSpec,
  type Signal,
  type StartedMember,
  type TrafficRule,
} from "./backend.ts";
import { bundle } from "./docker-helper.ts";
import { systemUnderTest } from "./instruments.ts";
import { nftRuleset, nftTable } from "./nft.ts";
import { harnessAlive, processStartTime } from "./state.ts";

/**
 * Members that are somebody else's hosts, reached with the system OpenSSH client: Jepsen's
 * `control` layer, where every verb is a command run over SSH (plus stdin), and partitions,
 * kills and file transfers are commands too. No SSH library: `ssh` reads the user's agent,
 * keys, jump hosts and host-key policy exactly as the user's own shell does.
 *
 * One `SshSession` per run: a private directory (an ssh_config written for the run, its
 * known_hosts, one ControlMaster socket per member) that `close()` removes with the masters.
 */

/** One SSH destination: where to connect and as whom. */
export interface SshHost {
  host: string;
  port?: number;
  /** Login user; root when absent. */
  user?: string;
  /** Private key file; absent: the user's agent (SSH_AUTH_SOCK) and ssh's default keys. */
  identityFile?: string;
}

export interface SshMemberOptions {
  name: string;
  ssh: SshHost;
  /** Reached through this host first (ssh -J / ProxyJump). */
  jump?: SshHost;
  /** A non-root login user: every privileged command is prefixed with `sudo -n --`. */
  sudo?: boolean;
  /** The address the other members reach this one at (configs, pg_stat_replication); default ssh.host. */
  address?: string;
  /** A directory pgchaos may use on the host, created on connect (owner: dirOwner). */
  dir?: string;
  /** Owner of `dir`; default postgres (the StartedMember contract). */
  dirOwner?: string;
  /**
   * Unix users whose processes are the system under test. A VM runs far more than the cluster
   * (init, sshd, cron, agents): only these users' processes in the session's network namespace
   * are ever listed, so no fault can signal the host's own init. Default: postgres and etcd.
   */
  processUsers?: string[];
  /**
   * Whether the host's own `node` (root's PATH) may run the harness's agent when it is 18 or newer;
   * default true. False: the harness's own binary is always uploaded (see SshMember.node).
   */
  hostNode?: boolean;
}

export interface SshSessionOptions {
  /** Names the session's directory and the nftables tables its members load (a later heal finds them). */
  runId: string;
  /**
   * OpenSSH's StrictHostKeyChecking. Default accept-new with a known_hosts private to the run:
   * trust on first use, for throw-away test hosts only. For real hosts give knownHostsFile
   * (e.g. ~/.ssh/known_hosts) and "yes".
   */
  strictHostKeyChecking?: "yes" | "accept-new" | "no";
  knownHostsFile?: string;
  connectTimeoutSeconds?: number;
}

export const DEFAULT_REMOTE_DIR = "/var/tmp/pgchaos";
const DEFAULT_PROCESS_USERS = ["postgres", "etcd"];
const DEFAULT_TIMEOUT_MS = 30_000;
/** What readFile's remote script exits with for a missing file (any other failure is an error). */
const MISSING = 66;
/** ssh's own exit status when the connection itself failed. */
const SSH_FAILED = 255;
/** A helper that ignores SIGTERM this long (writes stuck behind a partition) is killed, as on Docker. */
const HELPER_GRACE_MS = 30_000;
/** An instrument gets this long after SIGTERM, as on the other backends. */
const INSTRUMENT_GRACE_MS = 3_000;
/** What a session's close() gives processes still attached (a Ctrl-C's teardown) before SIGKILL. */
const CLOSE_GRACE_MS = 3_000;
/** The oldest Node.js the agent's bundle is built for (docker-helper's esbuild target). */
const MIN_NODE_MAJOR = 18;

/** A word for a POSIX shell: single-quoted, embedded quotes closed, escaped and reopened. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** An argv as one remote command line: ssh hands the remote side a string its login shell parses. */
export function shellCommand(argv: string[]): string {
  return argv.map(shellQuote).join(" ");
}

/** Host names, users and paths go into an ssh_config: nothing that could start another keyword. */
function configValue(what: string, value: string): string {
  if (!/^[^\s"\\#]+$/.test(value) || value.startsWith("-"))
    throw new Error(`ssh ${what} ${JSON.stringify(value)}: no spaces, quotes, # or leading dash`);
  return value;
}

/**
 * The remote command for an argv run as `user` (root when absent): a non-root login reaches root
 * with `sudo -n` (never a password prompt: BatchMode), and another user from root with runuser.
 */
export function remoteArgv(
  login: { user: string; sudo: boolean },
  argv: string[],
  options: { user?: string; timeoutMs?: number; env?: Record<string, string> } = {},
): string[] {
  const user = options.user ?? "root";
  const env = options.env ? ["env", ...Object.entries(options.env).map(([k, v]) => `${k}=${v}`)] : [];
  // The remote `timeout` ends the command itself: a killed ssh client would leave it running.
  const timeout =
    options.timeoutMs !== undefined
      ? ["timeout", "-k", "2", `${Math.max(1, Math.ceil(options.timeoutMs / 1000))}`]
      : [];
  const command = [...timeout, ...env, ...argv];
  if (user === login.user) return command;
  const root = login.user === "root" ? [] : login.sudo ? ["sudo", "-n", "--"] : [];
  if (user === "root") return [...root, ...command];
  return [...root, "runuser", "-u", user, "--", ...command];
}

interface Connection {
  alias: string;
  options: SshMemberOptions;
}

/** The SSH connections of one run: its ssh_config, known_hosts and control sockets, in one directory. */
export class SshSession {
  readonly dir: string;
  private readonly config: string;
  private readonly connections = new Map<string, Connection>();
  private readonly members: SshMember[] = [];
  private closed = false;

  constructor(private readonly options: SshSessionOptions) {
    if (!/^[a-z0-9]+$/i.test(options.runId)) throw new Error(`run id ${options.runId}: letters and digits`);
    // Under the run's prefix, so a crashed run's directory is recognisable; short (socket paths ≤ 108).
    this.dir = mkdtempSync(join(tmpdir(), `pgchaos-${options.runId}-ssh-`));
    this.config = join(this.dir, "ssh_config");
    // Names its owner: after a SIGKILL, `pgchaos cleanup` ends the masters this process left.
    // With its start time: a PID reused by another process after a crash is not the owner.
    writeFileSync(join(this.dir, HARNESS_PID_FILE), `${process.pid} ${processStartTime(process.pid) ?? ""}`);
    this.writeConfig();
  }

  get runId(): string {
    return this.options.runId;
  }

  /** Connects (one ControlMaster per member, authenticated now) and prepares the member's directory. */
  async member(options: SshMemberOptions): Promise<SshMember> {
    if (this.closed) throw new Error("ssh session closed");
    const alias = `m${this.connections.size}`;
    const connection = { alias, options };
    this.connections.set(alias, connection);
    this.writeConfig();
    await this.startMaster(alias, options.name);
    const member = new SshMember(this, alias, options);
    this.members.push(member);
    await member.prepare();
    return member;
  }

  /** `ssh` reading only the run's config (never ~/.ssh/config: the run's choices hold). */
  sshArgv(alias: string, remote: string[]): string[] {
    return ["ssh", "-F", this.config, "-T", "--", alias, shellCommand(remote)];
  }

  /**
   * A master that authenticates now and then serves every exec of the member over its one
   * connection. Started with -f: ssh forks itself into the background once logged in. Its
   * output goes to a file: a master holding a pipe of ours would keep that pipe open forever.
   */
  private async startMaster(alias: string, name: string): Promise<void> {
    const log = join(this.dir, `${alias}.log`);
    const fd = openSync(log, "a");
    const argv = ["-F", this.config, "-o", "ControlMaster=yes", "-o", "ControlPersist=no", "-f", "-N", alias];
    // No pipes: the master, and a jump's proxy ssh orphaned by -f, keep their stdio for life.
    const child = spawn("ssh", argv, { stdio: ["ignore", fd, fd], detached: true });
    closeSync(fd);
    const timeoutMs = ((this.options.connectTimeoutSeconds ?? 10) + 20) * 1000;
    const code = await new Promise<number>((resolve) => {
      const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
      child.once("error", () => resolve(127));
      child.once("exit", (exitCode, signal) => {
        clearTimeout(timer);
        resolve(exitCode ?? (signal ? 128 : 1));
      });
    });
    if (code !== 0) {
      const detail = readFileSync(log, "utf8").trim().split("\n").slice(-3).join(" ");
      throw new Error(`ssh to ${name} failed (exit ${code}): ${detail}`);
    }
  }

  private writeConfig(): void {
    const known = this.options.knownHostsFile ?? join(this.dir, "known_hosts");
    const stanza = (alias: string, host: SshHost, extra: string[]) => [
      `Host ${alias}`,
      `  HostName ${configValue("host", host.host)}`,
      `  Port ${host.port ?? 22}`,
      `  User ${configValue("user", host.user ?? "root")}`,
      ...(host.identityFile
        ? [`  IdentityFile ${configValue("key", host.identityFile)}`, "  IdentitiesOnly yes"]
        : []),
      ...extra,
    ];
    const lines: string[] = [];
    for (const { alias, options } of this.connections.values()) {
      const jump = options.jump ? `${alias}-jump` : null;
      lines.push(
        ...stanza(alias, options.ssh, [
          `  ControlPath ${join(this.dir, alias)}.sock`,
          ...(jump ? [`  ProxyJump ${jump}`] : []),
        ]),
      );
      // The jump host is reached by an ssh that ProxyJump starts with this same -F file.
      if (options.jump) lines.push(...stanza(jump as string, options.jump, []));
    }
    lines.push(
      "Host *",
      "  BatchMode yes",
      // Only `startMaster` creates masters; an exec whose master is gone connects on its own.
      "  ControlMaster no",
      `  StrictHostKeyChecking ${this.options.strictHostKeyChecking ?? "accept-new"}`,
      `  UserKnownHostsFile ${configValue("known_hosts", known)}`,
      "  GlobalKnownHostsFile /dev/null",
      `  ConnectTimeout ${this.options.connectTimeoutSeconds ?? 10}`,
      "  ServerAliveInterval 5",
      "  ServerAliveCountMax 3",
      "  LogLevel ERROR",
      "",
    );
    writeFileSync(this.config, lines.join("\n"), { mode: 0o600 });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Ends the helpers and instruments still running on the members (SIGTERM, SIGKILL after a short
   * grace) and removes the files pgchaos installed there, then every master (`ssh -O exit`), then
   * anything of ours still running from the session's directory (a jump's proxy ssh, by PID), and
   * removes the directory. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.members.map((m) => m.release().catch(() => undefined)));
    for (const alias of this.connections.keys()) {
      await runSsh(["ssh", "-F", this.config, "-O", "exit", alias], { timeoutMs: 10_000 });
    }
    await removeSessionDir(this.dir);
  }
}

/** Ends every ssh process of a session directory (masters, a jump's proxies), then removes it. */
async function removeSessionDir(dir: string): Promise<void> {
  for (let attempt = 0; attempt < 30; attempt++) {
    const left = processesMentioning(dir);
    if (left.length === 0) break;
    for (const pid of left) {
      try {
        process.kill(pid, attempt < 10 ? "SIGTERM" : "SIGKILL");
      } catch {
        // gone meanwhile
      }
    }
    await sleep(100);
  }
  rmSync(dir, { recursive: true, force: true });
}

/** The file in a session's directory naming the harness process that opened it. */
const HARNESS_PID_FILE = "harness.pid";

/** A session whose harness died (SIGKILL) and left its masters connected: what `pgchaos cleanup` removes. */
export interface OrphanSession {
  runId: string;
  dir: string;
  processes: number[];
}

/** Sessions in the temp directory whose harness is gone (no pid file: a session that never got that far). */
export function orphanSessions(): OrphanSession[] {
  const found: OrphanSession[] = [];
  for (const entry of readdirSync(tmpdir())) {
    const match = /^pgchaos-([a-z0-9]+)-ssh-/i.exec(entry);
    if (!match) continue;
    const dir = join(tmpdir(), entry);
    let owner = "";
    try {
      owner = readFileSync(join(dir, HARNESS_PID_FILE), "utf8");
    } catch {
      // no pid file yet
    }
    const [pidText = "", started] = owner.trim().split(" ");
    const pid = Number(pidText);
    if (Number.isInteger(pid) && pid > 0 && harnessAlive(pid, started || undefined)) continue;
    found.push({ runId: match[1] as string, dir, processes: processesMentioning(dir) });
  }
  return found;
}

export function removeOrphanSession(session: OrphanSession): Promise<void> {
  return removeSessionDir(session.dir);
}

/** PIDs whose command line names `text` (the session's own ssh processes). */
export function processesMentioning(text: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(text)) found.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/** One host reached over SSH: every StartedMember verb is a command run there. */
export class SshMember implements StartedMember {
  readonly native = null;
  readonly name: string;
  readonly address: string;
  readonly dir: string;
  private readonly login: { user: string; sudo: boolean };
  /** The control connection as the host sees it (SSH_CONNECTION): a firewall fault must spare it. */
  private control: { client: string; clientPort: number; server: string; serverPort: number } | null = null;
  /** Processes attached over their own channels (helpers, instruments), until they are known to have ended. */
  private readonly attachedProcesses = new Set<Stoppable>();
  /** Files pgchaos put into `dir` (bundles, a Node binary): removed by release(). */
  private readonly installed = new Set<string>();
  private readonly bundles = new Map<string, Promise<string>>();
  private nodePath: Promise<string> | null = null;

  constructor(
    private readonly session: SshSession,
    private readonly alias: string,
    private readonly options: SshMemberOptions,
  ) {
    this.name = options.name;
    this.address = options.address ?? options.ssh.host;
    this.dir = options.dir ?? DEFAULT_REMOTE_DIR;
    this.login = { user: options.ssh.user ?? "root", sudo: options.sudo ?? false };
  }

  /** The harness's address as this host sees it (SSH_CONNECTION's client); null before prepare(). */
  get harnessAddress(): string | null {
    return this.control?.client ?? null;
  }

  /** The harness dials the host itself: no port mapping in between. */
  endpoint(port: number): Endpoint {
    return { host: this.options.ssh.host, port };
  }

  /** Reads the control connection and creates `dir`; refuses a non-root login without working sudo. */
  async prepare(): Promise<void> {
    // As the login user, not through sudo: sudo resets the environment.
    const seen = await this.raw('printf "%s\\n" "$SSH_CONNECTION"');
    const [client, clientPort, server, serverPort] = seen.stdout.trim().split(/\s+/);
    if (seen.code !== 0 || !client || !server)
      throw new Error(`${this.name}: no SSH_CONNECTION over ssh (exit ${seen.code}): ${seen.stderr.trim()}`);
    this.control = { client, clientPort: Number(clientPort), server, serverPort: Number(serverPort) };
    if (this.login.user !== "root") {
      const whoami = await this.exec(["id", "-u"]);
      if (whoami.stdout.trim() !== "0")
        throw new Error(
          `${this.name}: commands as root fail for ${this.login.user}${this.login.sudo ? " (sudo -n)" : " (set sudo: true)"}: ${whoami.stderr.trim()}`,
        );
    }
    const owner = this.options.dirOwner ?? "postgres";
    await this.execOk(["install", "-d", "-m", "0755", "-o", owner, "-g", owner, this.dir]);
  }

  /** A command line run by the login shell as given: only for text the harness itself writes. */
  private raw(command: string): Promise<ExecResult> {
    return runSsh(["ssh", "-F", join(this.session.dir, "ssh_config"), "-T", "--", this.alias, command]);
  }

  exec(argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const remote = remoteArgv(this.login, argv, { ...options, timeoutMs });
    // Locally a little longer than the remote timeout, so the remote one normally reports (124).
    return runSsh(this.session.sshArgv(this.alias, remote), { timeoutMs: timeoutMs + 10_000 });
  }

  /** Runs as root with stdin; fails with the command and its stderr. */
  private async execOk(
    argv: string[],
    options: { input?: Buffer | string; inputFile?: string; user?: string; timeoutMs?: number } = {},
  ): Promise<string> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const remote = remoteArgv(this.login, argv, { user: options.user, timeoutMs });
    const result = await runSsh(this.session.sshArgv(this.alias, remote), {
      ...options,
      timeoutMs: timeoutMs + 10_000,
    });
    if (result.code !== 0)
      throw new Error(
        `${argv[0]} on ${this.name} exited ${result.code}${result.code === SSH_FAILED ? " (ssh)" : ""}: ${result.stderr.trim()}`,
      );
    return result.stdout;
  }

  /**
   * Detached on the host: a new session (setsid -f) whose output is appended to the log, opened
   * as root before the user switch, like the local backend's. The ssh session ends at once; the
   * process lives on. The environment is exactly spec.env, as on the other backends.
   */
  async spawn(spec: ProcessSpec): Promise<void> {
    const asUser = spec.user === "root" ? [] : ["runuser", "-u", spec.user, "--"];
    const env = ["env", "-i", ...Object.entries(spec.env).map(([k, v]) => `${k}=${v}`)];
    const script = 'log=$1; cd "$2" || exit 1; shift 2; exec setsid -f "$@" >>"$log" 2>&1 </dev/null';
    await this.execOk(["sh", "-c", script, "sh", spec.logFile, spec.cwd, ...asUser, ...env, ...spec.argv]);
  }

  /** Content on stdin, written under a private umask, then its mode and owner, then renamed in place. */
  async writeFile(path: string, content: string, options: { mode?: number; owner?: string } = {}) {
    await this.put(path, { input: content }, options.mode ?? 0o644, options.owner);
  }

  /** The local file streamed as stdin: binary-safe, any size, no argument length limit. */
  async upload(localPath: string, path: string, options: { mode: number }): Promise<void> {
    await this.put(path, { inputFile: localPath }, options.mode, undefined);
  }

  private async put(
    path: string,
    input: { input?: string; inputFile?: string },
    mode: number,
    owner: string | undefined,
  ): Promise<void> {
    const script = [
      'umask 077; tmp="$1.pgchaos-$$"',
      'cat >"$tmp" || { rm -f "$tmp"; exit 1; }',
      'chmod "$2" "$tmp" || { rm -f "$tmp"; exit 1; }',
      'if [ -n "$3" ]; then chown "$3:" "$tmp" || { rm -f "$tmp"; exit 1; }; fi',
      'exec mv -f "$tmp" "$1"',
    ].join("\n");
    await this.execOk(["sh", "-c", script, "sh", path, mode.toString(8), owner ?? ""], {
      ...input,
      timeoutMs: 300_000,
    });
  }

  async readFile(path: string): Promise<string | null> {
    const script = `test -e "$1" || exit ${MISSING}; exec cat -- "$1"`;
    const remote = remoteArgv(this.login, ["sh", "-c", script, "sh", path], {
      timeoutMs: DEFAULT_TIMEOUT_MS,
    });
    const result = await runSsh(this.session.sshArgv(this.alias, remote), {
      timeoutMs: DEFAULT_TIMEOUT_MS + 10_000,
    });
    if (result.code === MISSING) return null;
    if (result.code !== 0) throw new Error(`cannot read ${path} on ${this.name}: ${result.stderr.trim()}`);
    return result.stdout;
  }

  /**
   * The system under test: processes of `processUsers` in the session's own network namespace
   * (on a VM, the host's; in a test, the member's namespace), never an sshd (the host's remote
   * shell and our own session), never the listing itself or its ancestors, never pgchaos's helpers.
   */
  async processes(): Promise<MemberProcess[]> {
    const script = "readlink /proc/$$/ns/net; echo $$; exec ps -eo pid=,ppid=,stat=,user:64=,netns=,args=";
    const listed = await this.execOk(["sh", "-c", script]);
    const [nsLine, selfLine, ...lines] = listed.split("\n");
    const ownNs = /(\d+)/.exec(nsLine ?? "")?.[1];
    const self = Number(selfLine);
    if (!ownNs || !Number.isInteger(self))
      throw new Error(`${this.name}: unexpected listing: ${listed.slice(0, 200)}`);
    const users = new Set(this.options.processUsers ?? DEFAULT_PROCESS_USERS);
    const all: (MemberProcess & { stat: string; user: string; netns: string })[] = [];
    for (const line of lines) {
      const match = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(.*)$/.exec(line);
      if (!match) continue;
      const [, pid, ppid, stat, user, netns, command] = match as unknown as string[];
      all.push({
        pid: Number(pid),
        ppid: Number(ppid),
        stat: stat as string,
        user: user as string,
        netns: netns as string,
        command: command as string,
      });
    }
    const byPid = new Map(all.map((p) => [p.pid, p]));
    const ancestors = new Set<number>();
    for (let pid: number | undefined = self; pid && !ancestors.has(pid); pid = byPid.get(pid)?.ppid)
      ancestors.add(pid);
    const candidates = all.filter(
      (p) =>
        !p.stat.startsWith("Z") &&
        p.netns === ownNs &&
        users.has(p.user) &&
        !ancestors.has(p.pid) &&
        !/^(\S*\/)?sshd(:|\s|$)/.test(p.command),
    );
    // Helpers are found by marker among every process (a helper's children may run as another user).
    return systemUnderTest(
      all.map(({ pid, ppid, command }) => ({ pid, ppid, command })),
      () => false,
    )
      .filter((p) => candidates.some((c) => c.pid === p.pid))
      .map(({ pid, ppid, command }) => ({ pid, ppid, command }));
  }

  async signal(pid: number, signal: Signal): Promise<void> {
    // Only a process of the system under test: never init, sshd, or anything else on the host.
    if (!(await this.processes()).some((p) => p.pid === pid))
      throw new Error(`pid ${pid} is not a process of the system under test on ${this.name}`);
    await this.execOk(["kill", "-s", signal.slice(3), String(pid)]);
  }

  async signalAll(signal: Signal): Promise<number[]> {
    const pids = (await this.processes()).map((p) => p.pid);
    // Some may exit in between: kill(1) still signals the rest (its exit status is then 1).
    if (pids.length > 0) await this.exec(["kill", "-s", signal.slice(3), ...pids.map(String)]);
    return pids;
  }

  /** The table a named filter is loaded as on this run: `pgchaos_<run>_<name>`, for a later heal to find. */
  tableName(name: string): string {
    return nftTable(`${this.session.runId}_${name}`);
  }

  /**
   * The shared ruleset, with one exception ahead of every drop: SSH from the harness's address to
   * the host's SSH port (both from SSH_CONNECTION) — the control connection, and the new one a
   * `pgchaos heal` opens after a crashed run — or an isolated host could never be healed.
   */
  ruleset(name: string, rule: TrafficRule): string {
    const control = this.control;
    if (!control) throw new Error(`${this.name}: not connected`);
    const family = (address: string) => (address.includes(":") ? "ip6" : "ip");
    const input = `${family(control.client)} saddr ${control.client} tcp dport ${control.serverPort} accept;`;
    const output = `${family(control.client)} daddr ${control.client} tcp sport ${control.serverPort} accept;`;
    const shared = nftRuleset(this.tableName(name), rule);
    const spared = shared
      .replace('iifname "lo" accept;', `iifname "lo" accept; ${input}`)
      .replace('oifname "lo" accept;', `oifname "lo" accept; ${output}`);
    if (!spared.includes(input) || !spared.includes(output))
      throw new Error("nftRuleset changed shape: the SSH connection's exemption could not be placed");
    return spared;
  }

  async blockTraffic(name: string, rule: TrafficRule): Promise<void> {
    const table = this.tableName(name);
    await this.execOk(["sh", "-c", 'nft delete table inet "$1" 2>/dev/null; exec nft -f -', "sh", table], {
      input: this.ruleset(name, rule),
    });
  }

  async unblockTraffic(name: string): Promise<void> {
    const result = await this.exec(["nft", "delete", "table", "inet", this.tableName(name)]);
    // A heal that silently failed would leave the fault in place: only "no such table" is fine.
    if (result.code !== 0 && !/No such file or directory/.test(result.stderr))
      throw new Error(`nft delete table on ${this.name} exited ${result.code}: ${result.stderr.trim()}`);
  }

  /**
   * Runs the harness's agent as root on the host, attached over its own ssh channel: `<node>
   * <bundle> pgchaos-agent <config>`, like the other backends (the marker keeps it and its children
   * out of processes(); the agent reads its config from the last argument). Every stdout line goes
   * to the listeners, stderr is kept. The bundle (docker-helper's, for Node 18) is uploaded once per
   * member into `dir`, under a name carrying the marker; Node is the host's own or an uploaded copy
   * of the harness's (see `node`). stop(): SIGTERM to the agent's PID on the host through a separate
   * exec, SIGKILL after 30 s, then resolves once its output has ended. `entry` is for tests only.
   */
  startHelper(config: string, entry = AGENT_MAIN): HelperProcess {
    const listeners: ((line: string) => void)[] = [];
    let errors = "";
    const note = (text: string) => {
      errors += text;
    };
    let cancelled = false;
    // The config holds the database password: a root-only file the agent reads and deletes, not argv.
    const configFile = `${this.dir}/${AGENT_MARKER}-config-${randomBytes(4).toString("hex")}.json`;
    const written = this.writeFile(configFile, config, { mode: 0o600, owner: "root" }).then(() => {
      this.installed.add(configFile);
    });
    const launched: Promise<Attached | null> = Promise.all([this.installBundle(entry), this.node(), written])
      .then(([path, node]) => {
        if (cancelled || this.session.isClosed) throw new Error("stopped before it started");
        return this.attach([node, path, AGENT_MARKER, `@${configFile}`], {
          log: null,
          cwd: "/",
          mark: AGENT_MARKER,
          onLine: (line) => {
            for (const listener of listeners) listener(line);
          },
          onStderr: note,
        });
      })
      .catch((error: unknown) => {
        note(`could not start the helper: ${error instanceof Error ? error.message : String(error)}\n`);
        return null;
      });
    // Until it is launched, a session's close() must still find it.
    const pending: Stoppable = {
      end: async (graceMs) => {
        cancelled = true;
        await (await launched)?.end(graceMs);
      },
    };
    this.attachedProcesses.add(pending);
    void launched.then(() => this.attachedProcesses.delete(pending));
    return {
      onLine: (listener) => listeners.push(listener),
      errors: () => errors,
      stop: () => pending.end(HELPER_GRACE_MS),
    };
  }

  /** Refused: validation keeps the dns entry point off this backend (no "resolver" capability). */
  async useNameServer(): Promise<void> {
    throw new Error("an attached host's resolver is the user's own: pgchaos does not change it");
  }

  /**
   * Like the helper: attached over its own ssh channel, its PID the host's own (printed by a shell
   * that then execs it), its output appended to `spec.logFile` on the host, the environment exactly
   * `spec.env`. running() is false once that channel has closed: the instrument has exited, or the
   * channel died and took the instrument with it (the wrapper ends it when its stdin does).
   */
  async spawnInstrument(spec: ProcessSpec): Promise<InstrumentProcess> {
    if (!spec.argv.some((arg) => arg.includes(INSTRUMENT_MARKER)))
      throw new Error(`an instrument's argv must carry ${INSTRUMENT_MARKER}: ${spec.argv.join(" ")}`);
    // setpriv, unlike runuser, execs in place: the PID stays the instrument's own.
    const asUser =
      spec.user === "root"
        ? []
        : ["setpriv", `--reuid=${spec.user}`, `--regid=${spec.user}`, "--init-groups", "--"];
    const env = ["env", "-i", ...Object.entries(spec.env).map(([k, v]) => `${k}=${v}`)];
    let errors = "";
    const running = this.attach([...asUser, ...env, ...spec.argv], {
      log: spec.logFile,
      cwd: spec.cwd,
      mark: INSTRUMENT_MARKER,
      onLine: () => {},
      onStderr: (text) => {
        errors += text;
      },
    });
    const pid = await running.pid;
    if (pid === null) {
      const code = await running.exited;
      throw new Error(`could not start ${spec.argv[0]} on ${this.name} (exit ${code}): ${errors.trim()}`);
    }
    let exited = false;
    void running.exited.then(() => {
      exited = true;
    });
    return { pid, running: () => !exited, stop: () => running.end(INSTRUMENT_GRACE_MS) };
  }

  /**
   * Ends what is still attached (SIGTERM, SIGKILL after a short grace) and removes the files pgchaos
   * installed in `dir`, so that an empty `dir` can go too. Idempotent; the session's close() calls it.
   */
  async release(): Promise<void> {
    await Promise.all([...this.attachedProcesses].map((p) => p.end(CLOSE_GRACE_MS).catch(() => undefined)));
    // A helper still installing has nothing left to install into.
    await Promise.all([...this.bundles.values(), this.nodePath].map((p) => p?.catch(() => undefined)));
    if (this.installed.size === 0) return;
    const files = [...this.installed];
    this.installed.clear();
    await this.exec(["rm", "-f", "--", ...files], { timeoutMs: 15_000 });
  }

  /** The agent bundled for Node 18, once per member; the marker in its name marks it an instrument. */
  private installBundle(entry: string): Promise<string> {
    let installed = this.bundles.get(entry);
    if (!installed) {
      const file = entry === AGENT_MAIN ? AGENT_MARKER : `${AGENT_MARKER}-${basename(entry, ".ts")}`;
      const path = `${this.dir}/${file}.mjs`;
      installed = bundle(entry).then(async (code) => {
        this.installed.add(path);
        await this.writeFile(path, code, { mode: 0o644 });
        return path;
      });
      installed.catch(() => this.bundles.delete(entry));
      this.bundles.set(entry, installed);
    }
    return installed;
  }

  /**
   * The Node.js that runs the agent here: the host's own `node` (found on root's PATH) when it is 18
   * or newer, the bundle's target; otherwise (or with `hostNode: false`) the harness's own binary,
   * process.execPath, uploaded once into `dir` (about 100 MB) and removed with it at the end. That
   * copy runs only on a host like the harness's — same architecture, a glibc and libstdc++ as new as
   * those it was built against (an official Node 20 build needs glibc 2.28), `dir` not mounted noexec
   * — so it is run once after the upload, and a host where it cannot run is named with the reason.
   */
  private node(): Promise<string> {
    if (!this.nodePath) {
      const found = this.findNode();
      found.catch(() => {
        this.nodePath = null;
      });
      this.nodePath = found;
    }
    return this.nodePath;
  }

  private async findNode(): Promise<string> {
    const version = "process.stdout.write(process.versions.node)";
    if (this.options.hostNode !== false) {
      const script = `n=$(command -v node) && v=$("$n" -e '${version}') && printf '%s\\n%s\\n' "$n" "$v"; exit 0`;
      const [path, found] = (await this.execOk(["sh", "-c", script])).split("\n");
      if (path && Number(found?.split(".")[0]) >= MIN_NODE_MAJOR) return path;
    }
    const path = `${this.dir}/${AGENT_MARKER}-node`;
    this.installed.add(path);
    await this.upload(process.execPath, path, { mode: 0o755 });
    const ran = await this.exec([path, "-e", version]);
    if (ran.code !== 0 || ran.stdout !== process.versions.node)
      throw new Error(
        `${this.name}: no node >= ${MIN_NODE_MAJOR} on the host, and the harness's own (${process.versions.node}, uploaded to ${path}) does not run there (exit ${ran.code}): ${ran.stderr.trim().slice(0, 300)}`,
      );
    return path;
  }

  /**
   * A command as root on the host, kept attached over an ssh channel of its own through the
   * member's ControlMaster. A wrapper shell prints the command's PID first (a shell that prints
   * `$$` and then execs the command), then waits for it; stdout lines after the PID go to onLine
   * (or, with a log, both streams are appended to the log on the host). The channel's stdin is a
   * pipe of ours that we never write to: when this process dies, or its ssh client does, the stdin
   * ends and the wrapper sends the command SIGTERM — nothing is left on the host. end() does not rely
   * on that: SIGTERM to the PID through a separate exec (only while the PID is still the command's,
   * its cmdline carrying `mark`), SIGKILL after graceMs, then it waits for the channel to close.
   */
  private attach(
    argv: string[],
    options: {
      log: string | null;
      cwd: string;
      mark: string;
      onLine: (line: string) => void;
      onStderr: (text: string) => void;
    },
  ): Attached {
    const remote = remoteArgv(this.login, [
      "sh",
      "-c",
      ATTACH_SCRIPT,
      "sh",
      options.log ?? "",
      options.cwd,
      ...argv,
    ]);
    const [command, ...args] = this.session.sshArgv(this.alias, remote);
    const child = spawn(command as string, args, { stdio: ["pipe", "pipe", "pipe"] });
    child.stdin.on("error", () => {});
    let resolvePid: (pid: number | null) => void = () => {};
    const pid = new Promise<number | null>((resolve) => {
      resolvePid = resolve;
    });
    let pidSeen = false;
    const decoder = new StringDecoder("utf8");
    let partial = "";
    const line = (text: string) => {
      if (pidSeen) return options.onLine(text);
      // Anything before the PID (a login script's chatter) is not the command's output.
      if (/^\d+$/.test(text)) {
        pidSeen = true;
        resolvePid(Number(text));
      } else options.onStderr(`${text}\n`);
    };
    child.stdout.on("data", (chunk: Buffer) => {
      const lines = (partial + decoder.write(chunk)).split("\n");
      partial = lines.pop() ?? "";
      for (const text of lines) line(text);
    });
    const stderrDecoder = new StringDecoder("utf8");
    child.stderr.on("data", (chunk: Buffer) => options.onStderr(stderrDecoder.write(chunk)));
    const exited = new Promise<number>((resolve) => {
      let done = false;
      const finish = (code: number) => {
        if (done) return;
        done = true;
        const rest = partial + decoder.end();
        partial = "";
        if (rest) line(rest);
        resolvePid(null);
        resolve(code);
      };
      child.once("error", (error) => {
        options.onStderr(`ssh: ${error.message}\n`);
        finish(127);
      });
      child.once("close", (code, signal) => finish(code ?? (signal ? 128 : 1)));
    });
    // The wrapper's own exit status came back: the command has ended on the host, nothing to stop.
    let ended = false;
    void exited.then((code) => {
      if (code !== SSH_FAILED && child.signalCode === null) {
        ended = true;
        this.attachedProcesses.delete(stoppable);
      }
    });
    let ending: Promise<void> | null = null;
    const end = (graceMs: number): Promise<void> => {
      ending ??= (async () => {
        // A channel that never brings its PID (a host gone mid-start) is not waited on forever.
        const known = await within(pid, 30_000, null);
        if (known !== null && !ended) {
          const stopped = await this.exec(
            ["sh", "-c", STOP_SCRIPT, "sh", String(known), options.mark, String(Math.ceil(graceMs / 100))],
            { timeoutMs: graceMs + 15_000 },
          );
          if (stopped.stdout.includes("killed"))
            options.onStderr(`${argv[0]} ignored SIGTERM for ${graceMs} ms on ${this.name}: killed\n`);
          else if (stopped.code !== 0)
            options.onStderr(
              `could not stop pid ${known} on ${this.name} (exit ${stopped.code}): ${stopped.stderr.trim()}\n`,
            );
        }
        // Its output ends with it; a client that lingers (the host unreachable) is ended here.
        if ((await within(exited, 10_000, "lingering")) === "lingering") {
          child.kill("SIGKILL");
          await exited;
        }
        child.stdin.end();
        this.attachedProcesses.delete(stoppable);
      })();
      return ending;
    };
    const stoppable: Stoppable = { end };
    this.attachedProcesses.add(stoppable);
    return { pid, exited, end };
  }
}

/** The promise's value, or `fallback` after `ms`; the timer is cleared either way, never holding up an exit. */
function within<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<F>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** What release() and a session's close() end. */
interface Stoppable {
  end(graceMs: number): Promise<void>;
}

/** A command SshMember.attach keeps attached. */
interface Attached extends Stoppable {
  /** Its PID on the host; null when the channel closed before it was printed. */
  readonly pid: Promise<number | null>;
  /** The local ssh client's exit status, once the channel has closed. */
  readonly exited: Promise<number>;
}

/**
 * Runs on the host as `sh -c ATTACH_SCRIPT sh <log> <cwd> argv…`: the command in the background
 * (its stdin /dev/null, its output the channel's or the log's), a shell that prints its own PID and
 * execs it so the PID is the command's own, a watcher that sends it SIGTERM once the channel's stdin
 * ends (the harness or its ssh client died), and the wrapper waiting for it, exiting with its status.
 */
const ATTACH_SCRIPT = `log=$1; cd "$2" || exit 1; shift 2
if [ -n "$log" ]; then exec 4>>"$log" 5>&4 || exit 1; else exec 4>&1 5>&2; fi
exec 3<&0
sh -c 'echo "$$"; exec "$@" >&4 2>&5 4>&- 5>&-' sh "$@" </dev/null 3<&- &
pid=$!
{ while read -r _; do :; done; kill -s TERM "$pid"; } <&3 >/dev/null 2>&1 4>&- 5>&- &
watch=$!
exec 3<&- 4>&- 5>&-
wait "$pid"; code=$?
kill "$watch" 2>/dev/null
exit "$code"`;

/**
 * `sh -c STOP_SCRIPT sh <pid> <mark> <tenths>`: SIGTERM to the PID while its cmdline still carries
 * the mark (never a process that took over the PID), SIGKILL after the grace ("killed" on stdout),
 * and a wait until it is gone (a zombie's cmdline is empty: gone as far as we care).
 */
const STOP_SCRIPT = `pid=$1; mark=$2; grace=$3
ours() { tr '\\0' '\\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$mark"; }
ours || exit 0
kill -s TERM "$pid" 2>/dev/null
n=0
while ours; do
  if [ "$n" -eq "$grace" ]; then kill -s KILL "$pid" 2>/dev/null; echo killed; fi
  n=$((n + 1)); sleep 0.1
done
exit 0`;

/**
 * Runs ssh to completion with stdin from a string, a buffer or a local file; never throws for a
 * non-zero exit. stdin is always ended, so a remote `cat` sees end of file.
 */
function runSsh(
  argv: string[],
  options: { input?: Buffer | string; inputFile?: string; timeoutMs?: number } = {},
): Promise<ExecResult> {
  const [command, ...args] = argv;
  return new Promise((resolve) => {
    const child = spawn(command as string, args, {
      stdio: ["pipe", "pipe", "pipe"],
      timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    const done = (code: number, extra = "") =>
      resolve({
        code,
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8") + extra,
      });
    let finished = false;
    const finish = (code: number, extra = "") => {
      if (finished) return;
      finished = true;
      done(code, extra);
    };
    child.on("error", (error) => finish(127, error.message));
    child.on("close", (code, signal) => finish(code ?? (signal ? 128 : 1), signal ? ` (ssh ${signal})` : ""));
    // A process ssh left behind (a jump's proxy) may hold our pipes open: exit is enough then.
    child.on("exit", (code, signal) => {
      setTimeout(() => {
        finish(code ?? (signal ? 128 : 1), signal ? ` (ssh ${signal})` : "");
        child.stdout.destroy();
        child.stderr.destroy();
      }, 2_000).unref();
    });
    child.stdin.on("error", () => {});
    if (options.inputFile) {
      const file = createReadStream(options.inputFile);
      file.on("error", (error) => {
        child.stdin.destroy();
        child.kill("SIGTERM");
        stderr.push(Buffer.from(`cannot read ${options.inputFile}: ${error.message}`));
      });
      file.pipe(child.stdin);
    } else child.stdin.end(options.input ?? "");
  });
}
