import { sleep } from "../common/clock.ts";
import type { ExecResult } from "../common/exec.ts";
import type { DockerContainer } from "./docker-engine.ts";

export interface DockerExecOptions {
  /** Unix user; root when absent (the image's default user may be anyone). */
  user?: string;
  env?: Record<string, string>;
  cwd?: string;
}

/**
 * Every command starts as `sh -c <this> sh argv…`: the shell prints its PID on stderr and execs the
 * command in its place, so the harness learns the command's own PID inside the member (Docker only
 * knows the engine host's) without an extra process in the tree. Docker makes each exec a session
 * leader, so that PID is also its process group.
 */
export const PID_WRAPPER = 'echo "$$" >&2; exec "$@"';

/** What Docker's own failures (paused or removed container, unknown user) exit with, like `docker run`. */
export const DOCKER_FAILED = 125;
/** What a command that overran its time exits with, like timeout(1). */
export const TIMED_OUT = 124;

export interface RunningExec {
  /** The command's PID inside the member; null when it never started. */
  readonly pid: Promise<number | null>;
  /** Its exit code, once its output has ended. */
  readonly exited: Promise<number>;
  /** Stops reading its output, and settles `exited`, without waiting for it to end. */
  abandon(code: number): void;
}

/** Starts a command attached to its output, which arrives through the two callbacks. */
export async function openExec(
  container: DockerContainer,
  argv: string[],
  options: DockerExecOptions,
  onStdout: (chunk: Buffer) => void,
  onStderr: (chunk: Buffer) => void,
): Promise<RunningExec> {
  const exec = await container.exec({
    Cmd: ["sh", "-c", PID_WRAPPER, "sh", ...argv],
    AttachStdout: true,
    AttachStderr: true,
    User: options.user ?? "root",
    Env: envList(options.env),
    WorkingDir: options.cwd,
  });
  const stream = await exec.start({ Detach: false, Tty: false });
  let resolvePid: (pid: number | null) => void = () => {};
  const pid = new Promise<number | null>((resolve) => {
    resolvePid = resolve;
  });
  let head: Buffer | null = Buffer.alloc(0);
  const stderr = (chunk: Buffer) => {
    if (head === null) return onStderr(chunk);
    head = Buffer.concat([head, chunk]);
    const newline = head.indexOf(10);
    if (newline < 0) return;
    resolvePid(Number(head.subarray(0, newline).toString()) || null);
    const rest = head.subarray(newline + 1);
    head = null;
    if (rest.length > 0) onStderr(rest);
  };
  let settle: (code: number) => void = () => {};
  const exited = new Promise<number>((resolve) => {
    settle = (code) => {
      resolvePid(null);
      resolve(code);
    };
  });
  const frames = demuxer(onStdout, stderr);
  stream.on("data", frames);
  let done = false;
  const ended = () => {
    if (done) return;
    done = true;
    exec.inspect().then(
      (info) => settle(info.ExitCode ?? DOCKER_FAILED),
      () => settle(DOCKER_FAILED),
    );
  };
  stream.once("end", ended);
  stream.once("close", ended);
  stream.once("error", () => settle(DOCKER_FAILED));
  return {
    pid,
    exited,
    abandon(code) {
      settle(code);
      stream.off("data", frames);
      stream.destroy();
    },
  };
}

/**
 * Runs a command to completion; never throws (like common/exec's run): a non-zero exit, Docker's
 * own failure (125) and a timeout (124) are all results. A timed-out command's whole process group
 * is killed inside the member, so nothing is left running.
 */
export async function execIn(
  container: DockerContainer,
  argv: string[],
  options: DockerExecOptions & { timeoutMs?: number } = {},
): Promise<ExecResult> {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  const result = (code: number, note = "") => ({
    code,
    stdout: Buffer.concat(stdout).toString(),
    stderr: Buffer.concat(stderr).toString() + note,
  });
  let running: RunningExec;
  try {
    running = await openExec(
      container,
      argv,
      options,
      (chunk) => stdout.push(chunk),
      (chunk) => stderr.push(chunk),
    );
  } catch (error) {
    return result(DOCKER_FAILED, `docker: ${error instanceof Error ? error.message : String(error)}`);
  }
  const timeoutMs = options.timeoutMs ?? 30_000;
  let timedOut = false;
  const timer = setTimeout(async () => {
    timedOut = true;
    // A paused member never runs the wrapper: do not wait for a PID it cannot print.
    const pid = await Promise.race([running.pid, sleep(1_000).then(() => null)]);
    if (pid !== null) await openKill(container, ["-KILL", "--", `-${pid}`]);
    running.abandon(TIMED_OUT);
  }, timeoutMs);
  const code = await running.exited;
  clearTimeout(timer);
  return timedOut ? result(TIMED_OUT, `\ntimed out after ${timeoutMs} ms`) : result(code);
}

/** kill(1) as root inside the member, waited for but never failing (the target may be gone already). */
export async function openKill(container: DockerContainer, args: string[]): Promise<ExecResult> {
  return execIn(container, ["kill", ...args], { timeoutMs: 5_000 });
}

/**
 * Starts a long-running command in a session of its own, its stdout and stderr appended to `logFile`
 * inside the member; returns once it is forked, docker-init becoming its parent. Not a detached
 * exec: its failures (no such command, a log it cannot write) would go unseen. Not `cmd &`
 * either: a non-interactive shell's background jobs ignore SIGINT, and `pg_ctl stop -m fast` is one.
 */
export async function spawnIn(
  container: DockerContainer,
  argv: string[],
  logFile: string,
  options: DockerExecOptions,
): Promise<void> {
  const script = `log=$1; shift
command -v "$1" >/dev/null || { echo "$1: command not found" >&2; exit 127; }
exec setsid -f "$@" >>"$log" 2>&1 </dev/null`;
  const result = await execIn(container, ["sh", "-c", script, "sh", logFile, ...argv], options);
  if (result.code !== 0) {
    throw new Error(`could not start ${argv[0]} (exit ${result.code}): ${result.stderr.trim()}`);
  }
}

function envList(env: Record<string, string> | undefined): string[] | undefined {
  return env ? Object.entries(env).map(([key, value]) => `${key}=${value}`) : undefined;
}

/**
 * Docker's attach protocol without a TTY: frames of an 8-byte header (byte 0: 1 stdout, 2 stderr;
 * bytes 4–7: payload length, big-endian) and the payload, split across chunks at any byte.
 */
function demuxer(onStdout: (chunk: Buffer) => void, onStderr: (chunk: Buffer) => void) {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk: Buffer) => {
    pending = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 8) {
      const size = pending.readUInt32BE(4);
      if (pending.length < 8 + size) break;
      const payload = pending.subarray(8, 8 + size);
      if (pending[0] === 2) onStderr(payload);
      else onStdout(payload);
      pending = pending.subarray(8 + size);
    }
  };
}
