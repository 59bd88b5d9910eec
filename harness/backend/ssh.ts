import { spawn } from "node:child_process";
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
import { join } from "node:path";
import { sleep } from "../common/clock.ts";
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
import { systemUnderTest } from "./instruments.ts";
import { nftRuleset, nftTable } from "./nft.ts";
import { isAlive } from "./state.ts";

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
  private closed = false;

  constructor(private readonly options: SshSessionOptions) {
    if (!/^[a-z0-9]+$/i.test(options.runId)) throw new Error(`run id ${options.runId}: letters and digits`);
    // Under the run's prefix, so a crashed run's directory is recognisable; short (socket paths ≤ 108).
    this.dir = mkdtempSync(join(tmpdir(), `pgchaos-${options.runId}-ssh-`));
    this.config = join(this.dir, "ssh_config");
    // Names its owner: after a SIGKILL, `pgchaos cleanup` ends the masters this process left.
    writeFileSync(join(this.dir, HARNESS_PID_FILE), String(process.pid));
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

  /**
   * Ends every master (`ssh -O exit`), then anything of ours still running from the session's
   * directory (a jump's proxy ssh, by PID), and removes the directory. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
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
    let pid = Number.NaN;
    try {
      pid = Number(readFileSync(join(dir, HARNESS_PID_FILE), "utf8"));
    } catch {
      // no pid file yet
    }
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) continue;
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

  startHelper(_config: string): HelperProcess {
    throw new Error(`placed clients and inside observers do not run over SSH yet (${this.name})`);
  }

  async spawnInstrument(_spec: ProcessSpec): Promise<InstrumentProcess> {
    throw new Error(`instruments (Toxiproxy) do not run over SSH yet (${this.name})`);
  }
}

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
