import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import type pg from "pg";
import type { AgentClients, AgentMessage } from "../agent/protocol.ts";
import { attacherFor } from "../attach/attachers.ts";
import { type Attacher, withApplicationUri } from "../attach/attachment.ts";
import { type ClusterFile, databasePassword } from "../attach/cluster-file.ts";
import type { MemberSpec, StartedBackend } from "../backend/backend.ts";
import { type BackendChoice, createBackend } from "../backend/index.ts";
import { SshBackend } from "../backend/ssh-backend.ts";
import { RunClock, pollUntil, sleep } from "../common/clock.ts";
import { UsageError } from "../common/errors.ts";
import { Random } from "../common/random.ts";
import { fixturePath } from "../common/template.ts";
import { PRIMARY_NAME } from "../entrypoints/dns.ts";
import { HOSTED_PORTS, connectsByName, isHosted } from "../entrypoints/entrypoint.ts";
import { ClusterWithEntryPoints, createEntryPoint } from "../entrypoints/index.ts";
import { type ActiveFault, NETWORK_CAPABILITIES } from "../faults/fault.ts";
import { type FaultName, type FaultOptions, faults } from "../faults/index.ts";
import { type NemesisStep, nemesisSchedule, nemesisSeed } from "../faults/nemesis.ts";
import { betweenLabel } from "../faults/options.ts";
import { resolveTarget } from "../faults/targets.ts";
import type { ClusterStatus, StartMode } from "../model/cluster.ts";
import type { WriteOperation } from "../model/history.ts";
import type { HarnessCost, NodeLsn, RunRecord, TimelineHistory } from "../model/record.ts";
import { type EntryPointKind, type Target, type TopologyName, targetGroups } from "../model/scenario.ts";
import type { TimelineEvent } from "../model/timeline.ts";
import { ClusterStateSampler } from "../observe/cluster-state.ts";
import { RoleSampler, sampleNode } from "../observe/roles.ts";
import { readTimelineHistory } from "../observe/timeline-history.ts";
import type { Scenario, Step } from "../scenario/scenario.ts";
import { HA_MANAGERS } from "../topology/index.ts";
import { POSTGRES_PORT } from "../topology/members.ts";
import { withConnection } from "../topology/sql.ts";
import type { Topology, TopologyContext } from "../topology/topology.ts";
import {
  uriHosts,
  withCredentials,
  withHosts,
  withParameter,
  withTargetSessionAttrs,
} from "../topology/uri.ts";
import type { Route } from "../workload/connection.ts";
import { type ClientGroup, ID_RANGE, Workload, writerNames } from "../workload/workload.ts";
import { Agent } from "./agent.ts";
import { diskBytesFor } from "./backend-choice.ts";
import { checkMember } from "./preflight.ts";

export interface RunOptions {
  topology: TopologyName;
  backend: BackendChoice;
  /** Leave the cluster running and print how to reach it. */
  keep: boolean;
  /** Where node logs are copied before the work directory is removed. */
  logsDir: string;
  progress: (line: string) => void;
  /** Every random choice of the run comes from this (see common/random.ts). */
  seed: number;
  /** Aborted when the plan is interrupted: the run stops, tears down and throws. */
  signal?: AbortSignal;
  /** How many runs the plan ran at once (1: this run had the machine to itself). */
  concurrency?: number;
  /** Where this run sits in its plan; null when run on its own. */
  plan?: RunRecord["plan"];
  /** Attach to this cluster over SSH instead of starting one (--cluster). */
  cluster?: ClusterFile | null;
}

/** What the execution observed; runScenario adds the run's identity and cost. */
type ObservedRun = Omit<RunRecord, "run_id" | "seed" | "plan" | "concurrency" | "harness">;

const BOOTSTRAP_TIMEOUT_MS = 120_000;
/** How long a run stopped by its abort rule waits for the healed cluster to be healthy again. */
const RECOVERY_TIMEOUT_MS = 120_000;
const FINAL_PRIMARY_TIMEOUT_MS = 60_000;

export function newRunId(): string {
  return randomBytes(3).toString("hex");
}

/** A run stopped from outside (timeout, Ctrl-C): not a finding about the cluster. */
export class RunAborted extends Error {}

/**
 * One scenario on one topology: build the cluster, run the workload and observers, play the
 * steps, read the final state, tear everything down. Returns what was observed; verify judges it.
 * Throws when the run could not be made (the plan records that as a failed result); a run longer
 * than the scenario's `timeout:` is torn down and throws too.
 */
export async function runScenario(
  scenario: Scenario,
  runId: string,
  options: RunOptions,
): Promise<RunRecord> {
  const kind = HA_MANAGERS[options.topology].kind;
  const cpuAtStart = process.cpuUsage();
  const clock = new RunClock();
  const attach = options.cluster ?? null;
  if (attach) checkAttachable(scenario, options.topology, attach);
  // Read before anything connects: a missing password is bad input, not a crashed run.
  const attachPassword = attach ? databasePassword(attach) : null;
  const schema = `pgchaos_${runId}`;
  const builder = attach
    ? new SshBackend(attach, runId)
    : createBackend(options.backend, runId, { diskBytes: diskBytesFor(scenario), say: (text) => say(text) });
  const say = (text: string) => options.progress(`[${clock.seconds().padStart(6)}] ${text}`);
  const members: MemberSpec[] = attach
    ? attach.members.map(({ name }) => ({ name, ports: kind.harnessPorts }))
    : [
        ...kind.members(scenario).map(({ name }) => ({ name, ports: kind.harnessPorts })),
        // Proxies serve PostgreSQL's protocol on its port; the harness dials nothing else on them.
        ...scenario.entrypoints.filter(isHosted).map((name) => ({ name, ports: [...HOSTED_PORTS[name]] })),
      ];
  const deadline = AbortSignal.timeout(scenario.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  const aborted = new Promise<never>((_, reject) => {
    const stop = () =>
      reject(
        new RunAborted(
          deadline.aborted
            ? `run exceeded the scenario's timeout of ${scenario.timeoutMs / 1000}s and was torn down`
            : "run interrupted",
        ),
      );
    if (signal.aborted) stop();
    else signal.addEventListener("abort", stop, { once: true });
  });
  aborted.catch(() => {});
  let topology: ClusterWithEntryPoints | undefined;
  let backend: StartedBackend | undefined;
  let execution: Execution | undefined;
  let completed = false;
  // Filled in as the run goes; teardown and CPU only once the finally below has run.
  const harness: HarnessCost = { backend_start_s: 0, cluster_start_s: 0, teardown_s: 0, cpu_s: 0 };
  try {
    say(
      attach
        ? `attaching to ${options.topology} cluster ${attach.name}: ${members.map((m) => m.name).join(", ")} (over ssh)`
        : `starting ${options.topology} cluster: ${members.map((m) => m.name).join(", ")} (backend ${builder.kind})`,
    );
    // Not raced against the abort: a start cut short could create members after the teardown ran.
    backend = await builder.start(members);
    if (signal.aborted) await aborted;
    harness.backend_start_s = Number((clock.nowNs() / 1e9).toFixed(3));
    if (backend.kind === "docker" || backend.kind === "kubernetes") {
      // A user's own image must carry what this topology needs: one line naming what it lacks.
      const first = backend.member(members[0]?.name ?? "");
      const lacks = await checkMember(
        first,
        [options.topology, ...scenario.entrypoints],
        backend.stack.postgresBin,
      );
      if (lacks) throw new UsageError(`image ${backend.stack.image?.name ?? backend.stack.name} ${lacks}`);
    }
    const context: TopologyContext = { backend, scenario, runId, password: randomBytes(12).toString("hex") };
    const base =
      attach && attachPassword !== null
        ? withApplicationUri(
            await (attacherFor(attach.ha) as Attacher)({
              backend,
              cluster: attach,
              password: attachPassword,
              schema,
            }),
            attach,
          )
        : kind.create(context);
    const entryPoints = scenario.entrypoints.filter(isHosted).map((hosted) =>
      createEntryPoint(hosted, {
        backend: context.backend,
        topology: base,
        nameService: scenario.nameService,
      }),
    );
    topology = new ClusterWithEntryPoints(base, entryPoints, { backend });
    execution = new Execution(
      scenario,
      topology,
      backend,
      clock,
      say,
      new Random(options.seed),
      attach ? schema : null,
      strictest(scenario.abortWriteGapMs, attach?.abortWriteGapMs ?? null),
    );
    const running = execution.run(options);
    running.catch(() => {});
    const record = await Promise.race([running, aborted]);
    completed = true;
    harness.cluster_start_s = execution.clusterStartS;
    return {
      ...record,
      run_id: runId,
      seed: options.seed,
      plan: options.plan ?? null,
      concurrency: options.concurrency ?? 1,
      harness,
    };
  } finally {
    // A finished run stopped its own clients; only one given up midway needs them stopped here.
    if (!completed) execution?.abort();
    const teardownStart = clock.nowNs();
    // A run given up midway on the user's cluster heals its faults (nothing is torn down there:
    // a frozen member would stay frozen) and drops its schema; the cluster keeps nothing of pgchaos's.
    if (attach && !completed) await execution?.healEverything().catch(() => {});
    if (attach && topology && !completed) await dropSchema(topology, schema).catch(() => {});
    if (!options.keep) {
      if (topology && backend) await copyLogs(topology, backend, options.logsDir);
      await builder.destroy();
    }
    harness.teardown_s = Number(((clock.nowNs() - teardownStart) / 1e9).toFixed(3));
    harness.cpu_s = cpuSeconds(process.cpuUsage(cpuAtStart));
  }
}

/** What an attached run cannot do yet, refused before anything connects. */
export function checkAttachable(scenario: Scenario, topology: TopologyName, cluster: ClusterFile): void {
  if (topology !== cluster.ha)
    throw new UsageError(`${cluster.file}: the cluster runs ${cluster.ha}, not ${topology}`);
  if (!attacherFor(cluster.ha))
    throw new UsageError(`${cluster.file}: attaching to ${cluster.ha} is not supported yet`);
  const proxy = scenario.entrypoints.find((e) => e !== "direct" && e !== "uri");
  if (proxy)
    throw new UsageError(
      `${scenario.file}: entrypoint ${proxy} is not supported on an attached cluster yet (direct, uri)`,
    );
  const named = scenario.steps.flatMap((s) =>
    s.kind === "fault" ? [s.fault] : s.kind === "nemesis" ? s.faults : [],
  );
  // Both read postmaster.pid or run pg_ctl in the data directory, which the cluster file does not name yet.
  const needsDataDir = named.find((f) => f === "crash-postgres" || f === "promote");
  if (needsDataDir)
    throw new UsageError(
      `${scenario.file}: fault ${needsDataDir} needs the data directory, not known on an attached cluster yet`,
    );
}

/** Drops the run's own schema on the current primary (an attached run's tables live only there). */
async function dropSchema(topology: Topology, schema: string): Promise<void> {
  const primary = await pollUntil(async () => (await topology.status()).primary ?? undefined, 30_000);
  if (!primary) throw new Error("no primary to drop it on");
  await withConnection(
    topology.endpoint(primary),
    (client) => client.query(`drop schema if exists ${schema} cascade`),
    5000,
  );
}

/** The shorter of two limits, either of which may be absent. */
function strictest(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}

function cpuSeconds(usage: NodeJS.CpuUsage): number {
  return Number(((usage.user + usage.system) / 1e6).toFixed(3));
}

/** Members' logs come out through the member: the harness may not share its filesystem. */
async function copyLogs(topology: Topology, backend: StartedBackend, logsDir: string): Promise<void> {
  mkdirSync(logsDir, { recursive: true });
  for (const member of topology.members()) {
    for (const file of topology.logFiles(member.name)) {
      const text = await backend
        .member(member.name)
        .readFile(file)
        .catch(() => null);
      if (text !== null) writeFileSync(join(logsDir, basename(file)), text);
    }
  }
}

class Execution {
  private readonly timeline: TimelineEvent[] = [];
  private readonly problems: string[] = [];
  private readonly active: ActiveFault[] = [];
  /** Heals scheduled by a fault's own duration; awaited before the run ends. */
  private readonly autoHeals: Promise<void>[] = [];
  private workload: Workload | undefined;
  private sampler: RoleSampler | undefined;
  /** When the last injection returned, i.e. the fault was fully in force (a stop has stopped). */
  private lastFaultNs = 0;
  private aborted = false;
  /** Whether the latest wait: healthy held; only a held one has a healthy end to re-check. */
  private lastHealthyHeld = false;
  private readonly stoppers: (() => Promise<unknown>)[] = [];
  /** Seconds from the backend up to the cluster healthy. */
  clusterStartS = 0;
  /** Why the abort rule stopped the steps; null while it holds. */
  private halted: string | null = null;
  private haltNow: () => void = () => {};
  /** Resolves once the abort rule trips: sleeps and waits end early on it. */
  private readonly halt = new Promise<void>((resolve) => {
    this.haltNow = resolve;
  });

  constructor(
    private readonly scenario: Scenario,
    private readonly topology: ClusterWithEntryPoints,
    private readonly backend: StartedBackend,
    private readonly clock: RunClock,
    private readonly say: (text: string) => void,
    private readonly random: Random,
    /** An attached run's own schema (created first, dropped at the end); null on a cluster of pgchaos's. */
    private readonly schema: string | null = null,
    /** abort_if write_gap (the scenario's or the cluster file's, the stricter), in ms; null: none. */
    private readonly abortWriteGapMs: number | null = null,
  ) {}

  /**
   * The run was given up (timeout, Ctrl-C): stop the clients and samplers, and make the next step
   * throw, so nothing keeps dialling members that are being torn down.
   */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    for (const stop of this.stoppers) void stop().catch(() => {});
  }

  /** Heals every fault still in force: a run given up on a cluster that outlives it (attached). */
  healEverything(): Promise<void> {
    return this.healAll("repair");
  }

  private event(event: TimelineEvent): void {
    this.timeline.push(event);
  }

  private step(text: string): void {
    this.event({ at_ns: this.clock.nowNs(), kind: "step", text });
  }

  async run(options: RunOptions): Promise<ObservedRun> {
    const { scenario, topology, clock } = this;
    this.step("cluster starting");
    const startNs = clock.nowNs();
    await topology.start();
    const bootstrap = await this.waitHealthy(BOOTSTRAP_TIMEOUT_MS, 0);
    if (!bootstrap) throw new Error(`cluster did not become healthy within ${BOOTSTRAP_TIMEOUT_MS / 1000}s`);
    this.clusterStartS = Number(((clock.nowNs() - startNs) / 1e9).toFixed(3));
    this.say(`cluster healthy: ${bootstrap}`);
    this.step(`cluster healthy: ${bootstrap}`);
    const startStatus = await topology.status();
    const primary = startStatus.primary;
    if (!primary) throw new Error("healthy cluster without a primary");
    await this.createLedger(primary);
    await this.startEntryPoints();

    const sampler = new RoleSampler(
      topology.postgresMembers(),
      (m) => topology.endpoint(m),
      clock,
      (e) => this.event(e),
    );
    this.sampler = sampler;
    const addresses = new Map(topology.members().map((m) => [m.address, m.name]));
    // One connection string for both client kinds: the harness's routing tries its hosts in order too.
    const uri = await topology.connectionUri();
    const direct = uriHosts(uri).map(({ host }) => addresses.get(host) ?? host);
    const endpoint = (member: string) => topology.endpoint(member);
    const { user, password, options: sessionOptions } = endpoint(primary);
    // libpq gets the application's URI, its hosts re-pointed at what the harness can dial.
    const dialable = withHosts(uri, (e) => {
      const member = addresses.get(e.host);
      return member ? this.backend.member(member).endpoint(e.port) : e;
    });
    // The session options too: an attached run's tables live in its own schema (search_path).
    const credentials = (conninfo: string) => {
      const login = withCredentials(conninfo, user, password);
      return sessionOptions ? withParameter(login, "options", sessionOptions) : login;
    };
    const route = (kind: EntryPointKind): Route =>
      kind === "uri"
        ? { kind: "uri", conninfo: credentials(dialable) }
        : { kind: "hosts", targets: kind === "direct" ? direct : [kind], endpoint, accept: "read-write" };
    // The read-only path of each entry point: every kind has one (a proxy's is its replicaPath).
    const replicaRoute = (kind: EntryPointKind): Route | null => {
      if (kind === "uri")
        return { kind: "uri", conninfo: credentials(withTargetSessionAttrs(dialable, "prefer-standby")) };
      if (kind === "direct") return { kind: "hosts", targets: direct, endpoint, accept: "prefer-standby" };
      const path = topology.replicaPath(kind);
      if (path === null) return null;
      const { endpoint: proxy, applicationName } = path;
      return { kind: "hosts", targets: [kind], endpoint: () => proxy, accept: "any", applicationName };
    };
    const { workload: clients } = scenario;
    const allWriters = [
      ...scenario.entrypoints.flatMap((kind) => writerNames(kind, clients.writers)),
      ...clients.placed.flatMap((group) => writerNames(group.name, group.writers)),
    ];
    const workload = new Workload({
      // Clients by name run on the name service's host (placeAgents): only there does the name resolve.
      groups: scenario.entrypoints
        .filter((kind) => !connectsByName(kind))
        .map(
          (kind): ClientGroup => ({
            name: kind,
            writers: clients.writers,
            rate: clients.rate,
            route: route(kind),
            readers: clients.readers,
            replicaRoute: clients.readers.replica > 0 ? replicaRoute(kind) : null,
          }),
        ),
      write: clients.write,
      writerNames: allWriters,
      paths: scenario.entrypoints,
      // Its own stream, so adding transactions does not shift the run's other draws.
      seed: (this.random.seed ^ 0x9e3779b9) >>> 0,
      timeoutMs: clients.timeoutMs,
      memberAt: (address) => addresses.get(address),
      clock,
    });
    this.workload = workload;
    const clusterState = new ClusterStateSampler(
      `${topology.name} status`,
      () => topology.status(),
      clock,
      (e) => this.event(e),
    );
    const agents = await this.placeAgents(workload, direct, allWriters, startStatus);
    this.stoppers.push(
      () => workload.stop(),
      () => sampler.stop(),
      () => clusterState.stop(),
      ...agents.map((agent) => () => agent.stop()),
    );
    sampler.start();
    clusterState.start();
    workload.start();
    for (const agent of agents) agent.start(this.backend.member(agent.member));
    // Its own seed: drawing the poller's phase must not shift the run's other draws.
    const unfollow = topology.follow({
      clock,
      event: (e) => this.event(e),
      seed: (this.random.seed ^ 0x5bd1e995) >>> 0,
    });
    this.stoppers.push(unfollow);
    const { nameService } = scenario;
    if (topology.nameService()) {
      this.say(
        `dns writers connect to ${PRIMARY_NAME} (TTL ${nameService.ttlS} s), re-pointed every ${nameService.intervalMs / 1000} s`,
      );
    }
    if (scenario.entrypoints.includes("uri")) this.say(`uri writers connect with ${dialable}`);
    const paths = scenario.entrypoints.join(", ");
    this.say(
      `workload running: ${scenario.workload.writers} writers × ${scenario.workload.rate || "max"}/s via ${paths}`,
    );
    this.step("workload started");

    const unguard = allWriters.length > 0 ? this.guardWrites(workload) : () => {};
    for (const step of scenario.steps) {
      if (this.halted) break;
      await this.play(step);
    }
    await Promise.race([Promise.all(this.autoHeals), this.halt]);
    unguard();
    if (this.active.length > 0) await this.healAll("repair");
    if (this.halted) await this.recoverAfterHalt();

    await workload.stop();
    await unfollow();
    for (const agent of agents) {
      const errors = await agent.stop();
      if (agent.received === 0)
        this.fail(`helper on ${agent.member} reported nothing${errors ? `: ${errors.slice(-300)}` : ""}`);
    }
    this.step("workload stopped");
    await this.checkStillHealthy();
    const final = await this.readFinalState();
    if (this.schema) {
      await dropSchema(this.topology, this.schema).then(
        () => this.step(`dropped schema ${this.schema}`),
        (error: Error) => this.fail(`drop schema ${this.schema}: ${error.message}`),
      );
    }
    await Promise.all([sampler.stop(), clusterState.stop()]);
    for (const promotion of await topology.promotions()) {
      if (promotion.wallMs < clock.startWallMs) continue;
      this.event({
        at_ns: clock.fromWallMs(promotion.wallMs),
        kind: "promotion",
        source: `${topology.name} history`,
        member: promotion.member,
        timeline: promotion.timeline,
        fork_lsn: promotion.forkLsn,
        reason: promotion.reason,
      });
    }
    for (const event of await topology.haEvents()) {
      if (event.wallMs < clock.startWallMs) continue;
      this.event({
        at_ns: clock.fromWallMs(event.wallMs),
        kind: "ha",
        source: topology.name,
        member: event.member,
        text: event.text,
      });
    }
    if (options.keep) this.printConnection();
    const record: ObservedRun = {
      scenario: scenario.name,
      topology: topology.name,
      backend: this.backend.kind,
      stack: this.backend.stack,
      started_at: new Date(clock.startWallMs).toISOString(),
      duration_s: Number((clock.nowNs() / 1e9).toFixed(3)),
      versions: await topology.versions(),
      settings: { ...topology.settings(), workload: scenario.workload },
      members: topology.members(),
      history: workload.history,
      reads: workload.reads,
      timeline: [...this.timeline].sort((a, b) => a.at_ns - b.at_ns),
      final,
      entrypoints: scenario.entrypoints,
      ...(this.topology.nameService()
        ? {
            name_service: {
              name: PRIMARY_NAME,
              interval_s: scenario.nameService.intervalMs / 1000,
              ttl_s: scenario.nameService.ttlS,
              groups: [
                "dns" satisfies EntryPointKind,
                ...scenario.workload.placed.filter((g) => g.connect === "dns").map((g) => g.name),
              ],
            },
          }
        : {}),
      expect: scenario.expect,
      problems: this.problems,
    };
    return record;
  }

  /**
   * abort_if write_gap: once no write has been acknowledged for longer than the limit, the steps
   * stop (a sleep or wait in progress ends at once), every fault is healed, and the run ends
   * failed with the reason — the clients, final state and schema drop still run as usual.
   */
  private guardWrites(workload: Workload): () => void {
    const limitMs = this.abortWriteGapMs;
    if (limitMs === null) return () => {};
    const since = this.clock.nowNs();
    const timer = setInterval(() => {
      if (this.halted) return;
      const gapMs = (this.clock.nowNs() - Math.max(workload.lastAckNs, since)) / 1e6;
      if (gapMs <= limitMs) return;
      const reason = `abort_if write_gap > ${limitMs / 1000}s: no acknowledged write for ${(gapMs / 1000).toFixed(1)}s — steps stopped, every fault healed`;
      this.halted = reason;
      this.fail(reason);
      this.haltNow();
    }, 250);
    timer.unref();
    return () => clearInterval(timer);
  }

  /**
   * After the abort rule stopped the steps and everything was healed: does the cluster come back?
   * Healthy by the HA manager's word, and writable by the data (on every entry point, a write
   * invoked after the heal acknowledged), as `wait: writable` proves it.
   */
  private async recoverAfterHalt(): Promise<void> {
    const started = this.clock.nowNs();
    const detail = await pollUntil(async () => {
      const status = await this.topology.status();
      // The direct paths only: a name re-pointed every few minutes would hold the recovery (and
      // report "not writable") for as long as its poll, which is the name's figure, not the cluster's.
      const missing = this.workload?.acksOnEachPathSince(started).missing ?? [];
      const writable = missing.every((path) => path === ("dns" satisfies EntryPointKind));
      return status.healthy && writable ? status.detail : undefined;
    }, RECOVERY_TIMEOUT_MS);
    const took = this.clock.seconds(this.clock.nowNs() - started);
    if (detail === undefined) {
      this.fail(
        `after the abort: not healthy and writable within ${RECOVERY_TIMEOUT_MS / 1000}s of the heal (${(await this.topology.status()).detail})`,
      );
      return;
    }
    this.say(`healthy and writable again ${took} after the abort's heal: ${detail}`);
    this.step(`healthy after the abort: ${detail}`);
  }

  /** A sleep the abort rule can end early. */
  private async pause(ms: number): Promise<void> {
    await Promise.race([sleep(ms), this.halt]);
  }

  private async play(step: Step): Promise<void> {
    if (this.aborted) throw new RunAborted("run aborted");
    switch (step.kind) {
      case "sleep": {
        // Jitter is drawn even when zero, so adding it to one step does not shift the others' draws.
        const ms = step.ms + Math.round(this.random.next() * step.jitterMs);
        this.step(`sleep ${ms / 1000}s`);
        await this.pause(ms);
        return;
      }
      case "wait":
        return step.until === "healthy"
          ? this.waitHealthyStep(step.timeoutMs, step.stableMs)
          : this.waitWritableStep(step.timeoutMs);
      case "fault":
        await this.inject(step);
        return;
      case "heal":
        return step.target === null ? this.healAll(step.mode) : this.healOn(step.target, step.mode);
      case "nemesis":
        return this.nemesis(step);
    }
  }

  /**
   * A nemesis step: its schedule drawn at once from a seed of its own (so it replays whatever the
   * run did meanwhile) and put on the timeline; each fault injected on time, healed after its
   * duration, one at a time; everything it did healed at its end.
   */
  private async nemesis(step: NemesisStep): Promise<void> {
    const seed = nemesisSeed(this.random.seed, this.scenario.steps.indexOf(step));
    const schedule = nemesisSchedule(step, seed);
    const startNs = this.clock.nowNs();
    this.event({ at_ns: startNs, kind: "nemesis", seed, schedule });
    this.say(`nemesis: ${schedule.length} faults over ${step.totalMs / 1000}s, seed ${seed}`);
    const untilMs = async (ms: number) => {
      const left = ms - (this.clock.nowNs() - startNs) / 1e6;
      if (left > 0) await this.pause(left);
      if (this.aborted) throw new RunAborted("run aborted");
    };
    for (const entry of schedule) {
      await untilMs(entry.at_ms);
      if (this.halted) return;
      // The fault says what a target alone means for it (a partition isolates it, packet loss takes the nemesis's percent).
      const options = faults[entry.fault].nemesis?.(entry.target, step);
      if (options === undefined) throw new Error(`a nemesis cannot draw ${entry.fault}`);
      const active = await this.inject(
        {
          kind: "fault",
          fault: entry.fault,
          ...this.aimOf(entry.fault, entry.target, options),
          options,
          durationMs: null,
          at: step.at,
        },
        true,
      );
      if (active === null || entry.duration_ms === null) continue;
      await untilMs(entry.at_ms + entry.duration_ms);
      await this.heal(active, "repair");
    }
    await untilMs(step.totalMs);
    await this.healAll("repair");
  }

  /**
   * Helper processes inside members' namespaces: the scenario's placed writer groups, and — when
   * the network gets partitioned — an observer inside every PostgreSQL member, since a partition
   * hides a member from the outside observer exactly when its role matters most. Placements
   * resolve against the cluster as it was when the workload started.
   */
  private async placeAgents(
    workload: Workload,
    direct: string[],
    writerNames: readonly string[],
    startStatus: ClusterStatus,
  ): Promise<Agent[]> {
    const { topology, clock, scenario } = this;
    // Helpers run inside a member: they reach the others at their own addresses, as peers do.
    const endpoints = Object.fromEntries(
      topology
        .postgresMembers()
        .map((m) => [
          m,
          { ...topology.endpoint(m), host: this.backend.member(m).address, port: POSTGRES_PORT },
        ]),
    );
    // The name, for clients that connect by it: resolved inside their host, through the name service.
    const nameService = topology.nameService();
    if (nameService) endpoints[nameService.member] = nameService.endpoint();
    const base = { startMono: clock.startMono.toString(), startWallMs: clock.startWallMs, endpoints };
    const onMessage = (message: AgentMessage) => {
      if (message.type === "operation") workload.record(message.operation);
      else if (message.type === "read") workload.recordRead(message.read);
      else this.event(message.event);
    };
    const agents: Agent[] = [];
    const { workload: clients } = scenario;
    // One helper's clients; its slot (1, 2, …) gives it an id range and a seed of its own.
    const clientsIn = (
      slot: number,
      group: { group: string; writers: number; readers: number; rate: number },
      path: { targets: string[]; accept: "read-write" | "any" },
    ): AgentClients => ({
      ...group,
      ...path,
      readRate: clients.readers.rate,
      timeoutMs: clients.timeoutMs,
      // Disjoint id ranges keep every ledger id unique across processes.
      firstId: slot * ID_RANGE,
      write: clients.write,
      writerNames,
      seed: (this.random.seed + slot) >>> 0,
    });
    const byName = (name: string) => ({ targets: [name], accept: "any" as const });
    for (const [index, group] of clients.placed.entries()) {
      const [member] = resolveTarget(group.with, startStatus, topology.members(), this.random);
      if (!member) continue;
      if (group.connect === "dns" && nameService)
        await this.backend.member(member).useNameServer(nameService.nameServer());
      const placed = clientsIn(
        index + 1,
        { group: group.name, writers: group.writers, readers: group.readers, rate: group.rate },
        group.connect === "dns" && nameService
          ? byName(nameService.member)
          : { targets: group.connect === "local" ? [member] : direct, accept: "read-write" },
      );
      agents.push(new Agent(member, { ...base, clients: placed, observe: null }, onMessage));
      this.say(`client group ${group.name} placed on ${member}`);
    }
    // The dns entry point's own writers: on its host, as an application that connects by name.
    if (nameService) {
      const group = clientsIn(
        clients.placed.length + 1,
        {
          group: nameService.kind,
          writers: clients.writers,
          readers: clients.readers.primary,
          rate: clients.rate,
        },
        byName(nameService.member),
      );
      agents.push(new Agent(nameService.member, { ...base, clients: group, observe: null }, onMessage));
    }
    if (scenario.steps.some((step) => step.kind === "fault" && step.fault === "partition")) {
      for (const member of topology.postgresMembers()) {
        agents.push(new Agent(member, { ...base, clients: null, observe: member }, onMessage));
      }
    }
    return agents;
  }

  /**
   * A scenario that ends on `wait: healthy` promises a healthy end: sampled again once the workload
   * has stopped, so a run never reports a state the HA manager was about to change.
   */
  private async checkStillHealthy(): Promise<void> {
    const last = this.scenario.steps.at(-1);
    if (last?.kind !== "wait" || last.until !== "healthy" || !this.lastHealthyHeld) return;
    // A few tries: one slow status answer on a loaded machine is not an unhealthy cluster.
    const healthy = await pollUntil(
      async () => ((await this.topology.status()).healthy ? true : undefined),
      3000,
      500,
    );
    const { detail } = await this.topology.status();
    this.step(`final status: ${detail}`);
    if (!healthy) this.fail(`not healthy any more once the workload stopped (${detail})`);
  }

  /** A proxy is ready once a client can reach the primary through it. */
  private async startEntryPoints(): Promise<void> {
    await this.topology.startEntryPoints();
    // The name service proved itself as it started (its resolver answered the primary's address).
    const proxies = this.topology.members().filter((m) => m.kind === "entrypoint");
    for (const member of proxies.filter((m) => m.name !== this.topology.nameService()?.member)) {
      const ready = await pollUntil(async () => {
        try {
          return await this.withClient(member.name, async (client) => {
            const row = (await client.query<{ recovery: boolean }>("select pg_is_in_recovery() as recovery"))
              .rows[0];
            return row?.recovery === false ? true : undefined;
          });
        } catch {
          return undefined;
        }
      }, 60_000);
      if (!ready) throw new Error(`entry point ${member.name} did not route to the primary within 60s`);
      this.say(`entry point ${member.name} routes to the primary`);
    }
  }

  /**
   * Healthy for `stableMs` on end, under one primary: a cluster healthy for an instant may be about
   * to change (seen: Patroni demoting itself 0.35 s after a heal, once its DCS retry ran out).
   */
  private async waitHealthy(timeoutMs: number, stableMs: number): Promise<string | undefined> {
    let since: { at: number; primary: string | null } | null = null;
    return pollUntil(async () => {
      // The abort rule ends the wait; the caller sees `halted`.
      if (this.halted) return this.halted;
      const status = await this.topology.status();
      if (!status.healthy) {
        since = null;
        return undefined;
      }
      if (since === null || since.primary !== status.primary)
        since = { at: Date.now(), primary: status.primary };
      return Date.now() - since.at >= stableMs ? status.detail : undefined;
    }, timeoutMs + stableMs);
  }

  private async waitHealthyStep(timeoutMs: number, stableMs: number): Promise<void> {
    this.step("wait healthy");
    const started = this.clock.nowNs();
    const detail = await this.waitHealthy(timeoutMs, stableMs);
    if (this.halted) return;
    this.lastHealthyHeld = detail !== undefined;
    if (detail === undefined) {
      const why = (await this.topology.status()).detail;
      this.fail(
        `wait healthy: not healthy for ${stableMs / 1000}s on end within ${timeoutMs / 1000}s (${why})`,
      );
      return;
    }
    const held = stableMs > 0 ? ` (held ${stableMs / 1000}s)` : "";
    this.say(`healthy after ${this.clock.seconds(this.clock.nowNs() - started)}${held}: ${detail}`);
    this.step(`healthy: ${detail}`);
  }

  /**
   * Writable is proven by the data: on every entry point, an acknowledged write invoked after this
   * step began (so after the last fault took hold, and after any heal before it: an ack from before
   * a demotion is no proof). A path that still fails is downtime for the applications behind it.
   */
  private async waitWritableStep(timeoutMs: number): Promise<void> {
    this.step("wait writable");
    const since = this.clock.nowNs();
    const acks = await pollUntil(
      async () => {
        if (this.halted) return new Map<string, WriteOperation>();
        const seen = this.workload?.acksOnEachPathSince(since);
        return seen && seen.missing.length === 0 ? seen.acks : undefined;
      },
      timeoutMs,
      50,
    );
    if (this.halted) return;
    if (!acks) {
      const missing = this.workload?.acksOnEachPathSince(since).missing ?? [];
      this.fail(
        `wait writable: no acknowledged write through ${missing.join(", ")} within ${timeoutMs / 1000}s`,
      );
      return;
    }
    const paths = [...acks].map(([path, ack]) => {
      const after = this.clock.seconds(ack.complete_ns - this.lastFaultNs);
      const through = acks.size > 1 ? ` through ${path}` : "";
      return `${through} on ${ack.node} (timeline ${ack.timeline}) ${after} after the fault`;
    });
    this.say(`writable again${paths.join(";")}`);
    this.step(`writable on ${[...acks.values()].map((ack) => ack.node).join(", ")}`);
  }

  /** Where a nemesis's fault lands: its target, or what the fault makes of it (a partition isolates it). */
  private aimOf(name: FaultName, target: Target, options: FaultOptions) {
    const { aim } = faults[name];
    return aim === "target" ? { target, between: null } : aim.at(options);
  }

  /**
   * Injects one fault and returns it while in force; null when it could not be injected. A fault
   * step that cannot fire is a problem of the run; a nemesis's (`skippable`) is only skipped, since a
   * random schedule lands in states like "no primary right now" by design.
   */
  private async inject(
    step: Extract<Step, { kind: "fault" }>,
    skippable = false,
  ): Promise<ActiveFault | null> {
    const fault = faults[step.fault];
    if (!fault) throw new Error(`unknown fault ${step.fault}`);
    const { between } = step;
    const target = step.target ?? betweenLabel(between ?? [[], []]);
    try {
      const status = await this.topology.status();
      const members = this.topology.members();
      // "clients" is the harness itself, not a member: partitions handle it by address.
      const resolve = (group: string) =>
        group === "clients" ? [] : resolveTarget(group, status, members, this.random);
      // Every group is resolved against the same status before anything is injected: "primary +
      // sync_standby" are the two nodes that held those roles together.
      const groups = step.target ? targetGroups(step.target) : (between ?? []).flat();
      const hit = [...new Set(groups.flatMap(resolve))];
      const requested_ns = this.clock.nowNs();
      const context = { backend: this.backend, topology: this.topology, resolve };
      const named = { fault: step.fault, target };
      // A procedure has nothing to undo: healing it only puts it on the timeline, as any fault's.
      const active: ActiveFault = fault.heals
        ? { ...(await fault.inject(hit, context, step.options)), ...named }
        : { ...(await fault.inject(hit, context, step.options)), heal: async () => {}, ...named };
      // A kill counts once the signal has landed (a write invoked just before may still succeed);
      // a switchover counts from its request, since its own duration is part of the outage.
      const at_ns = fault.stamp === "start" ? requested_ns : this.clock.nowNs();
      // "writable" must be proven by a write sent after the fault took hold, whatever its stamp.
      this.lastFaultNs = this.clock.nowNs();
      this.active.push(active);
      for (const { member, sample, atMono } of active.observed ?? []) {
        this.sampler?.observe(member, sample, Number(atMono - this.clock.startMono));
      }
      this.event({
        at_ns,
        kind: "fault",
        phase: "inject",
        fault: step.fault,
        target,
        members: hit,
        requested_ns,
        ...(active.detail ? { detail: active.detail } : {}),
      });
      this.say(`fault injected: ${step.fault} ${target} → ${hit.join(", ") || "(no member)"}`);
      if (active.problem) this.fail(`fault ${step.fault} ${target}: ${active.problem}`);
      if (step.durationMs !== null) {
        const healAfter = sleep(step.durationMs).then(() => this.heal(active, "repair"));
        this.autoHeals.push(healAfter);
      }
      return active;
    } catch (error) {
      const why = `${step.fault} ${target}: ${(error as Error).message}`;
      if (!skippable) this.fail(`fault ${why}`);
      else {
        this.step(`nemesis skipped ${why}`);
        this.say(`nemesis skipped ${why}`);
      }
      return null;
    }
  }

  /** Heals one active fault (unless a heal step already did) and puts it on the timeline. */
  private async heal(active: ActiveFault, mode: StartMode): Promise<void> {
    const index = this.active.indexOf(active);
    if (index < 0) return;
    this.active.splice(index, 1);
    try {
      const requested_ns = this.clock.nowNs();
      await active.heal(mode);
      this.event({
        at_ns: this.clock.nowNs(),
        kind: "fault",
        phase: "heal",
        fault: active.fault,
        target: active.target,
        members: active.members,
        requested_ns,
      });
      this.say(`healed: ${active.fault} ${active.target} (${active.members.join(", ")})`);
    } catch (error) {
      this.fail(`heal ${active.fault} ${active.target}: ${(error as Error).message}`);
    }
  }

  /**
   * The network first, then the rest, latest first: a killed member's repair (repmgr's node rejoin,
   * pg_rewind) must be able to reach the new primary, as an operator would fix the network first.
   */
  private async healAll(mode: StartMode): Promise<void> {
    const network = (active: ActiveFault) =>
      faults[active.fault as FaultName].needs.some((need) => NETWORK_CAPABILITIES.includes(need));
    const latestFirst = [...this.active].reverse();
    for (const active of [...latestFirst.filter(network), ...latestFirst.filter((a) => !network(a))]) {
      await this.heal(active, mode);
    }
  }

  /**
   * Heals only some faults (a heal step with a target): how a scenario brings members back one by
   * one, in the order it chooses. A target written as a fault step's ("replicas") heals that fault,
   * so roles still work once every member is down; any other resolves to members now.
   */
  private async healOn(target: Target, mode: StartMode): Promise<void> {
    const named = this.active.filter((active) => active.target === target);
    if (named.length > 0) {
      for (const active of named.reverse()) await this.heal(active, mode);
      return;
    }
    try {
      const status = await this.topology.status();
      const members = this.topology.members();
      const chosen = new Set(
        targetGroups(target).flatMap((g) => resolveTarget(g, status, members, this.random)),
      );
      const on = this.active.filter((active) => active.members.some((member) => chosen.has(member)));
      if (on.length === 0) this.fail(`heal ${target}: no fault in force on ${[...chosen].join(", ")}`);
      for (const active of on.reverse()) await this.heal(active, mode);
    } catch (error) {
      this.fail(`heal ${target}: ${(error as Error).message}`);
    }
  }

  private fail(problem: string): void {
    this.problems.push(problem);
    this.step(`problem: ${problem}`);
    this.say(`PROBLEM: ${problem}`);
  }

  /** The ledger, and the lists with the function list-append transactions call (cheap when unused). */
  private async createLedger(primary: string): Promise<void> {
    await this.withClient(primary, async (client) => {
      // search_path names it on every session: the fixtures' unqualified tables land in it.
      if (this.schema) await client.query(`create schema if not exists ${this.schema}`);
      for (const file of ["sql/ledger.sql", "sql/list-append.sql"]) {
        await client.query(readFileSync(fixturePath(file), "utf8"));
      }
    });
  }

  /** The harness's own connections allow 2 s: the final reads follow heals on a loaded machine. */
  private withClient<T>(member: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
    return withConnection(this.topology.endpoint(member), use, 2000);
  }

  /**
   * After all heals: the primary as the HA manager names it and its ledger, every node's WAL
   * position and timeline ancestry, and the ledger of every other node still writable (a run that
   * ends split is judged on both sides).
   */
  private async readFinalState(): Promise<RunRecord["final"]> {
    const primary = await pollUntil(
      async () => (await this.topology.status()).primary ?? undefined,
      FINAL_PRIMARY_TIMEOUT_MS,
    );
    if (!primary) {
      this.fail(
        `no primary within ${FINAL_PRIMARY_TIMEOUT_MS / 1000}s after the last step: final state unreadable`,
      );
    }
    const readings = await Promise.all(this.topology.postgresMembers().map((m) => this.finalNode(m)));
    const nodes = readings.map((reading) => reading.node);
    const writable = nodes.filter((node) => node.role === "primary").map((node) => node.member);
    if (primary && !writable.includes(primary)) writable.unshift(primary);
    const sides = await Promise.all(
      writable.map(async (member) => ({ member, ids: await this.readLedger(member) })),
    );
    const ids = primary ? (sides.find((side) => side.member === primary)?.ids ?? null) : null;
    return {
      primary: primary ?? null,
      ids,
      nodes,
      sides,
      histories: readings.flatMap((reading) => (reading.history ? [reading.history] : [])),
    };
  }

  private async readLedger(member: string): Promise<number[] | null> {
    try {
      return await this.withClient(member, async (client) => {
        const result = await client.query<{ id: string }>("select id from pgchaos_ledger order by id");
        return result.rows.map((row) => Number(row.id));
      });
    } catch (error) {
      this.fail(`final read on ${member}: ${(error as Error).message}`);
      return null;
    }
  }

  /** A member's role, WAL position and timeline ancestry, over one connection. */
  private async finalNode(member: string): Promise<{ node: NodeLsn; history: TimelineHistory | null }> {
    try {
      return await this.withClient(member, async (client) => {
        const sample = await sampleNode(client, 5000);
        const node: NodeLsn = {
          member,
          role: sample.role === "primary" ? "primary" : "replica",
          timeline: sample.timeline,
          lsn: sample.lsn,
        };
        if (sample.timeline === null) return { node, history: null };
        const forks = await readTimelineHistory(client, sample.timeline).catch(() => null);
        return { node, history: forks ? { member, timeline: sample.timeline, forks } : null };
      });
    } catch {
      return { node: { member, role: "down", timeline: null, lsn: null }, history: null };
    }
  }

  private printConnection(): void {
    for (const member of this.topology.postgresMembers()) {
      const e = this.topology.endpoint(member);
      this.say(`kept ${member}: postgresql://${e.user}:${e.password}@${e.host}:${e.port}/${e.database}`);
    }
    this.say("the cluster keeps running; remove it with: pgchaos cleanup");
  }
}
