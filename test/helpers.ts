import { spawn, spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ListAppendCheck, ReadCheck } from "../harness/model/figures.ts";
import type { ReadOperation, WriteOperation } from "../harness/model/history.ts";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI in a child process, exactly as a user or CI would. */
export function pgchaos(args: string[], options: { asUser?: string; group?: string } = {}): CliResult {
  if (options.asUser) return asOtherUser(options.asUser, args, options.group);
  const node = [process.execPath, join(ROOT, "bin/pgchaos.js"), ...args];
  const [command, ...rest] = node;
  const result = spawnSync(command as string, rest, { cwd: ROOT, encoding: "utf8", timeout: 900_000 });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/**
 * The CLI as another user. A checkout under /root (mode 0700) is unreadable to anyone else, so the
 * checkout is bind-mounted at a readable path in a private mount namespace that dies with the command.
 */
function asOtherUser(user: string, args: string[], group?: string): CliResult {
  // The CLI's bundle is built here first, as root: the other user cannot write the checkout's cache.
  pgchaos(["--version"]);
  const view = mkdtempSync(join(tmpdir(), "pgchaos-view-"));
  chmodSync(view, 0o755);
  try {
    const asGroup = group ? `-g ${group}` : "";
    const script = `mount --bind "$1" "$2" && cd "$2" && shift 2 && exec runuser -u "$0" ${asGroup} -- "$@"`;
    // Paths into the checkout are handed over as the other user sees them: through the view.
    const seen = args.map((arg) => (arg.startsWith(ROOT) ? join(view, arg.slice(ROOT.length)) : arg));
    const argv = [user, ROOT, view, process.execPath, join(view, "bin/pgchaos.js"), ...seen];
    const result = spawnSync(
      "unshare",
      ["--mount", "--propagation", "private", "sh", "-c", script, ...argv],
      {
        encoding: "utf8",
        timeout: 900_000,
      },
    );
    return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
  } finally {
    rmSync(view, { recursive: true, force: true });
  }
}

/** Everything a run could leave behind on this machine, named after the run id. */
export function leftovers(runId: string): string[] {
  const found: string[] = [];
  const ns = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout;
  for (const line of ns.split("\n")) if (line.includes(`pgchaos-${runId}`)) found.push(`namespace ${line}`);
  const links = spawnSync("ip", ["-o", "link"], { encoding: "utf8" }).stdout;
  for (const line of links.split("\n"))
    if (line.includes(runId)) found.push(`link ${line.split(":")[1]?.trim()}`);
  if (existsSync(`/run/pgchaos/${runId}.json`)) found.push("run state file");
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      // Or working in the run's directory: a process that renamed itself (pgpool's children) names no run.
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      if (cmdline.includes(`pgchaos-${runId}`) || cwd.includes(`/pgchaos-${runId}-`))
        found.push(`process ${entry}: ${cmdline.replaceAll("\0", " ")}`);
    } catch {
      // exited meanwhile
    }
  }
  // The Docker backend's containers and networks carry the run id as a label.
  for (const kind of ["ps -a", "network ls", "volume ls"]) {
    const listed = spawnSync(
      "sh",
      ["-c", `docker ${kind} -q --filter label=pgchaos.run=${runId} 2>/dev/null`],
      {
        encoding: "utf8",
      },
    ).stdout;
    for (const id of listed.split("\n").filter(Boolean)) found.push(`docker ${kind.split(" ")[0]} ${id}`);
  }
  // The kubernetes backend's node container (labelled by the run above, and as the lab labels its
  // nodes), and any Pod process that outlived it: the Pods' cgroups sit under their node's container.
  const nodes = spawnSync(
    "sh",
    ["-c", `docker ps -aq --filter label=pgchaos.kube-node.run=${runId} 2>/dev/null`],
    { encoding: "utf8" },
  ).stdout;
  for (const id of nodes.split("\n").filter(Boolean)) found.push(`kubernetes node container ${id}`);
  for (const pid of podProcessesWithoutNode()) found.push(`pod process ${pid} of a removed node`);
  // Members' own disks (harness/backend/disk.ts): mounted and backed by a file in the work directory.
  for (const line of readFileSync("/proc/self/mounts", "utf8").split("\n"))
    if (line.includes(`/pgchaos-${runId}-`)) found.push(`mount ${line.split(" ")[1]}`);
  const loops = spawnSync("losetup", ["-a"], { encoding: "utf8" }).stdout;
  for (const line of loops.split("\n"))
    if (line.includes(`/pgchaos-${runId}-`)) found.push(`loop device ${line.split(":")[0]}`);
  // A namespace's own resolv.conf (the dns entry point's clients): `ip netns del` leaves it.
  if (existsSync("/etc/netns"))
    for (const name of readdirSync("/etc/netns"))
      if (name.includes(`pgchaos-${runId}`)) found.push(`/etc/netns/${name}`);
  const tmp = readdirSync("/tmp").filter((name) => name.startsWith(`pgchaos-${runId}-`));
  for (const dir of tmp) found.push(`work directory /tmp/${dir}`);
  // patroni-k8s: a copy of the run's CA (CN pgchaos-<run id>-ca) that Patroni wrote to a temp file.
  for (const name of readdirSync("/tmp").filter((n) => /^tmp[a-z0-9_]{8}$/.test(n))) {
    try {
      const subject = new X509Certificate(readFileSync(join("/tmp", name))).subject;
      if (subject.includes(`CN=pgchaos-${runId}-ca`)) found.push(`CA copy /tmp/${name}`);
    } catch {
      // not a certificate, or gone meanwhile
    }
  }
  // POSIX shared memory the run made (libfaketime's for clock-skew), and any libfaketime made itself.
  for (const name of readdirSync("/dev/shm"))
    if (name.includes(`pgchaos-${runId}-`) || name.includes("faketime_")) found.push(`/dev/shm/${name}`);
  return found;
}

/** PIDs in a Pod's cgroup (`/docker/<id>/kubepods/…`) whose node container no longer runs. */
export function podProcessesWithoutNode(): string[] {
  const running = new Set(
    spawnSync("sh", ["-c", "docker ps -q --no-trunc 2>/dev/null"], { encoding: "utf8" }).stdout.split("\n"),
  );
  const orphans: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const node = /\/docker\/([0-9a-f]{64})\/kubepods/.exec(
        readFileSync(`/proc/${entry}/cgroup`, "utf8"),
      )?.[1];
      if (node && !running.has(node)) orphans.push(entry);
    } catch {
      // exited meanwhile
    }
  }
  return orphans;
}

/** The host-wide kernel settings a Kubernetes node's kubelet writes (docs/kubernetes-node-lab.md). */
export function kubeletSysctls(): Record<string, string> {
  const keys = [
    "kernel/panic",
    "kernel/panic_on_oops",
    "vm/overcommit_memory",
    "vm/panic_on_oom",
    "kernel/keys/root_maxkeys",
    "kernel/keys/root_maxbytes",
    "net/ipv4/ip_forward",
  ];
  return Object.fromEntries(keys.map((key) => [key, readFileSync(`/proc/sys/${key}`, "utf8").trim()]));
}

export interface ResultJson {
  run_id: string;
  scenario: string;
  topology: string;
  backend: string;
  verdict: string;
  figures: Record<string, number | boolean | null>;
  expectations: { key: string; pass: boolean; actual: string }[];
  lost_write_ids: number[];
  timeline: {
    kind: string;
    member?: string;
    members?: string[];
    source?: string;
    text?: string;
    phase?: string;
  }[];
  promotions: {
    member: string;
    timeline: number;
    source: string;
    fork_lsn: string | null;
    fork_source: string | null;
    ha_fork_lsn: string | null;
    unrecorded: string | null;
  }[];
  versions: Record<string, string>;
  seed: number;
  problems: string[];
  final: {
    primary: string | null;
    ids: number[] | null;
    nodes: { member: string; role: string; timeline: number | null }[];
    sides?: { member: string; ids: number[] | null }[];
  };
  divergence: {
    members: string[];
    sides: {
      member: string;
      ha_primary: boolean;
      missing_ids: number[] | null;
      missing_by_group: Record<string, number>;
    }[];
  } | null;
  explanation: { text: string; evidence: { at_ns: number; text: string }[] } | null;
  split_brain_evidence: string[];
  dual_primary_evidence: string[];
  reads: Omit<ReadCheck, "problems">;
  transactions: ListAppendCheck | null;
  unknown: Record<string, string>;
  wal_loss: {
    member: string;
    timeline: number;
    measured_timeline: number;
    fork_lsn: string | null;
    loss_bytes: number | null;
  }[];
  name_service: unknown;
}

/**
 * Figures printed as a number that were not measured, read from the raw record (not from verify's
 * reasons): a read figure without an answered read, a stale-name figure without a name, lost writes
 * without a final state, WAL loss without a fork point on a timeline that acknowledged writes, and
 * any null figure without its reason. Checked on every result a test reads (resultOf).
 */
export function unmeasuredNumbers(result: ResultJson, history: readonly WriteOperation[]): string[] {
  const found: string[] = [];
  const f = result.figures;
  const mustBeNull = (key: string, why: string) => {
    if (f[key] !== null) found.push(`${key} is ${String(f[key])} though ${why}`);
  };
  if (f.reads === 0) {
    for (const key of ["stale_reads", "max_staleness_s", "lost_data_reads", "non_monotonic_reads"]) {
      mustBeNull(key, "no read was answered");
    }
  }
  if (result.name_service === null) {
    for (const key of ["stale_name_writes", "stale_name_refused_writes"])
      mustBeNull(key, "there was no name");
  }
  if (result.final.ids === null) mustBeNull("lost_writes", "the final state was not read");
  const acked = new Set(history.filter((op) => op.outcome === "ok").map((op) => op.timeline));
  for (const detail of result.wal_loss) {
    if (detail.fork_lsn === null && acked.has(detail.measured_timeline) && detail.loss_bytes !== null) {
      found.push(
        `WAL loss of ${detail.member}'s timeline ${detail.timeline} is ${detail.loss_bytes} without a fork LSN`,
      );
    }
    if (detail.loss_bytes === null)
      mustBeNull("wal_loss_bytes", `${detail.member}'s timeline ${detail.timeline} was not measured`);
  }
  for (const [key, value] of Object.entries(f)) {
    if (value === null && !(key in result.unknown) && UNKNOWABLE.has(key))
      found.push(`${key} is null with no reason`);
  }
  return found;
}

/** Figures whose null means "not measured" (others' null means "none", e.g. an RTO that never recovered). */
const UNKNOWABLE = new Set([
  "lost_writes",
  "wal_loss_bytes",
  "stale_reads",
  "max_staleness_s",
  "lost_data_reads",
  "non_monotonic_reads",
  "stale_name_writes",
  "stale_name_refused_writes",
]);

export interface ScenarioRun {
  cli: CliResult;
  /** result.json of each topology that ran, by topology name. */
  results: Map<string, ResultJson>;
  /** The directory each topology's run wrote, by topology. */
  dirs: Map<string, string>;
  runIds: string[];
  out: string;
}

/** The HA managers `npm test` runs a shared scenario on (its patroni-k8s run is test/k8s's). */
export const WITHOUT_K8S = ["patroni", "pg_auto_failover", "repmgr"] as const;

/** `--topology` once per name: a plan of only these. */
export function topologyFlags(topologies: readonly string[]): string[] {
  return topologies.flatMap((topology) => ["--topology", topology]);
}

/** `pgchaos run <scenario>` into a fresh output directory, with every result.json it wrote. */
export function runScenarioFile(scenario: string, extraArgs: string[] = []): ScenarioRun {
  const out = mkdtempSync(join(tmpdir(), "pgchaos-test-out-"));
  // A shipped scenario by name, or a test's own scenario by path from the project root.
  const file = scenario.includes("/") ? join(ROOT, scenario) : join(ROOT, "scenarios", scenario);
  const cli = pgchaos(["run", file, "--out", out, ...extraArgs]);
  writeFileSync(join(out, "output.txt"), `${cli.stdout}\n--- stderr ---\n${cli.stderr}`);
  const runIds = [...cli.stdout.matchAll(/\(run ([0-9a-f]{6})\)/g)].map((m) => m[1] as string);
  const results = new Map<string, ResultJson>();
  const dirs = new Map<string, string>();
  for (const dir of readdirSync(out)) {
    const file = join(out, dir, "result.json");
    if (!existsSync(file)) continue;
    const result = JSON.parse(readFileSync(file, "utf8")) as ResultJson;
    results.set(result.topology, result);
    dirs.set(result.topology, join(out, dir));
  }
  return { cli, results, dirs, runIds, out };
}

/** The directory of a topology's run: result.json, history.json, report.html, logs/. */
export function runDirOf(run: ScenarioRun, topology: string): string {
  const dir = run.dirs.get(topology);
  if (!dir) throw new Error(`no run directory for ${topology} in ${run.out}`);
  return dir;
}

/** Every operation of a topology's run, from its history.json. */
export function historyOf(run: ScenarioRun, topology: string): WriteOperation[] {
  return JSON.parse(readFileSync(join(runDirOf(run, topology), "history.json"), "utf8")) as WriteOperation[];
}

/** Every read of a topology's run, from its reads.json (absent: the run had no readers). */
export function readsOf(run: ScenarioRun, topology: string): ReadOperation[] {
  const file = join(runDirOf(run, topology), "reads.json");
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as ReadOperation[]) : [];
}

const checked = new WeakSet<ResultJson>();

/** A topology's result.json; it throws if the result prints a number it did not measure. */
export function resultOf(run: ScenarioRun, topology: string): ResultJson {
  const result = run.results.get(topology);
  if (!result)
    throw new Error(
      `no result for ${topology}; output in ${run.out}/output.txt:\n${run.cli.stdout.slice(-3000)}\n${run.cli.stderr}`,
    );
  if (checked.has(result)) return result;
  const unmeasured = unmeasuredNumbers(result, historyOf(run, topology));
  if (unmeasured.length > 0) {
    throw new Error(`${topology}'s result prints numbers it did not measure: ${unmeasured.join("; ")}`);
  }
  checked.add(result);
  return result;
}

/** Problems of the harness itself (a fault it could not inject or heal, a helper that failed), not findings. */
export function harnessProblems(result: ResultJson): string[] {
  return result.problems.filter((p) => /^(fault|heal|helper) /.test(p));
}

/** A markdown table under reports/, for the README to quote from real runs. */
export function writeReportTable(name: string, columns: string[], rows: string[]): void {
  mkdirSync(join(ROOT, "reports"), { recursive: true });
  const header = [`| ${columns.join(" | ")} |`, `|${columns.map(() => "---").join("|")}|`];
  writeFileSync(join(ROOT, "reports", name), `${[...header, ...rows].join("\n")}\n`);
}

export const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

/** Each fault's window on the timeline, inject to heal, in the order they were injected. */
/**
 * When each fault was surely in force: from its inject (once it took hold) to the moment its heal
 * was requested — a heal takes effect somewhere between its request and its recorded end, so a
 * write in that gap proves nothing either way.
 */
export function faultWindows(result: ResultJson): { fault: string; from_ns: number; to_ns: number }[] {
  const events = result.timeline as (ResultJson["timeline"][number] & {
    fault: string;
    at_ns: number;
    requested_ns?: number;
  })[];
  const windows: { fault: string; from_ns: number; to_ns: number }[] = [];
  for (const event of events.filter((e) => e.kind === "fault")) {
    if (event.phase === "inject")
      windows.push({ fault: event.fault, from_ns: event.at_ns, to_ns: Number.NaN });
    else {
      const open = windows.find((w) => w.fault === event.fault && Number.isNaN(w.to_ns));
      if (open) open.to_ns = event.requested_ns ?? event.at_ns;
    }
  }
  return windows;
}

/** Milliseconds from request to acknowledgement of each write acknowledged within [from, to]. */
export function ackedMs(history: WriteOperation[], from_ns: number, to_ns: number): number[] {
  return history
    .filter((w) => w.outcome === "ok" && w.invoke_ns >= from_ns && w.complete_ns <= to_ns)
    .map((w) => (w.complete_ns - w.invoke_ns) / 1e6);
}

/**
 * `pgchaos run <args>`, sent `signal` (SIGINT as Ctrl-C would) as soon as its output shows `when`
 * (by default: its workload runs).
 */
export function interruptedRun(
  signal: NodeJS.Signals,
  args: string[],
  when = "workload running",
): Promise<{ code: number | null; stdout: string; runId: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, "bin/pgchaos.js"), "run", ...args], { cwd: ROOT });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes(when) && !child.killed) child.kill(signal);
    });
    child.on("close", (code) =>
      resolve({ code, stdout, runId: /\(run ([0-9a-f]{6})\)/.exec(stdout)?.[1] ?? "" }),
    );
  });
}
