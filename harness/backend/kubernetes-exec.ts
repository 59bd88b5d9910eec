import { Readable, Writable } from "node:stream";
import type { KubeConfig, V1Status } from "@kubernetes/client-node";
import { sleep } from "../common/clock.ts";
import type { ExecResult } from "../common/exec.ts";
import { DOCKER_FAILED, type RunningExec, TIMED_OUT } from "./docker-exec.ts";

/** The one container of every member's Pod. */
export const MEMBER_CONTAINER = "member";

/** Which Pod a command runs in, and the client that reaches it. */
export interface PodRef {
  config: KubeConfig;
  namespace: string;
  pod: string;
}

export interface PodExecOptions {
  /** Unix user; root when absent. */
  user?: string;
  env?: Record<string, string>;
  cwd?: string;
  /** Fed to the command's stdin, then closed (v5.channel.k8s.io closes stdin; older protocols cannot). */
  stdin?: Buffer;
}

/**
 * Kubernetes exec has no user, environment or working directory of its own: the wrapper prints its
 * PID on stderr (as Docker's does, so the harness learns the command's PID inside the Pod), changes
 * directory, and execs the command in place — through setpriv for another user, which keeps the PID.
 */
export const POD_WRAPPER = [
  'echo "$$" >&2; u=$1; d=$2; shift 2',
  '[ -z "$d" ] || cd "$d" || exit 125',
  '[ "$u" = root ] && exec "$@"',
  'HOME=$(getent passwd "$u" | cut -d: -f6) USER=$u LOGNAME=$u exec setpriv --reuid="$u" --regid="$u" --init-groups -- "$@"',
].join("\n");

let execClass: Promise<typeof import("@kubernetes/client-node").Exec> | undefined;

/**
 * Starts a command attached to its output through the API server's exec (the kubelet's, over a
 * WebSocket): client-node's Exec, not `kubectl exec` in the node, so a user's own cluster needs
 * nothing but its kubeconfig. The exit code comes from the status frame.
 */
export async function openPodExec(
  ref: PodRef,
  argv: string[],
  options: PodExecOptions,
  onStdout: (chunk: Buffer) => void,
  onStderr: (chunk: Buffer) => void,
): Promise<RunningExec> {
  execClass ??= import("@kubernetes/client-node").then((module) => module.Exec);
  const Exec = await execClass;
  const env = options.env ? ["env", ...Object.entries(options.env).map(([k, v]) => `${k}=${v}`)] : [];
  const command = ["sh", "-c", POD_WRAPPER, "sh", options.user ?? "root", options.cwd ?? "", ...env, ...argv];
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
  let status: V1Status | null = null;
  let settled = false;
  let settle: (code: number) => void = () => {};
  const exited = new Promise<number>((resolve) => {
    settle = (code) => {
      if (settled) return;
      settled = true;
      resolvePid(null);
      resolve(code);
    };
  });
  const sink = (write: (chunk: Buffer) => void) =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        if (!settled) write(chunk);
        done();
      },
    });
  const socket = await new Exec(ref.config).exec(
    ref.namespace,
    ref.pod,
    MEMBER_CONTAINER,
    command,
    sink(onStdout),
    sink(stderr),
    options.stdin ? Readable.from([options.stdin]) : null,
    false,
    (received) => {
      status = received;
    },
  );
  socket.on("close", () => settle(exitCode(status)));
  socket.on("error", () => settle(DOCKER_FAILED));
  return {
    pid,
    exited,
    abandon(code) {
      settle(code);
      socket.terminate();
    },
  };
}

/**
 * The API server's status frame: Success, or NonZeroExitCode with the code as a cause; anything
 * else (no such executable, the container gone) is the runtime's own failure, as Docker's 125 is.
 */
function exitCode(status: V1Status | null): number {
  if (status?.status === "Success") return 0;
  const cause = status?.details?.causes?.find((c) => c.reason === "ExitCode");
  if (status?.reason === "NonZeroExitCode" && cause?.message) return Number(cause.message);
  return DOCKER_FAILED;
}

/**
 * Runs a command to completion; never throws: a non-zero exit, the API's own failure (125) and a
 * timeout (124) are all results. A timed-out command's process group is killed inside the Pod.
 */
export async function podExec(
  ref: PodRef,
  argv: string[],
  options: PodExecOptions & { timeoutMs?: number } = {},
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
    running = await openPodExec(
      ref,
      argv,
      options,
      (chunk) => stdout.push(chunk),
      (chunk) => stderr.push(chunk),
    );
  } catch (error) {
    return result(
      DOCKER_FAILED,
      `kubernetes exec: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const timeoutMs = options.timeoutMs ?? 30_000;
  let timedOut = false;
  const timer = setTimeout(async () => {
    timedOut = true;
    const pid = await Promise.race([running.pid, sleep(1_000).then(() => null)]);
    // A Pod's exec is not a session leader of its own: the group if it leads one, else the process.
    if (pid !== null)
      await podKill(ref, [
        "sh",
        "-c",
        'kill -KILL -- "-$1" 2>/dev/null || kill -KILL "$1"',
        "sh",
        String(pid),
      ]);
    running.abandon(TIMED_OUT);
  }, timeoutMs);
  const code = await running.exited;
  clearTimeout(timer);
  return timedOut ? result(TIMED_OUT, `\ntimed out after ${timeoutMs} ms`) : result(code);
}

/** A signal as root inside the Pod (`kill …` or a small script), waited for, never failing. */
export function podKill(ref: PodRef, argv: string[]): Promise<ExecResult> {
  return podExec(ref, argv[0] === "sh" ? argv : ["kill", ...argv], { timeoutMs: 5_000 });
}
