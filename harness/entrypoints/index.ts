import type { ClusterStatus, PostgresEndpoint, StartMode } from "../model/cluster.ts";
import type { Member } from "../model/record.ts";
import { describeMember } from "../topology/members.ts";
import type { Parameters } from "../topology/sql.ts";
import type { HaEvent, HaPromotion, Topology } from "../topology/topology.ts";
import { DnsEntryPoint } from "./dns.ts";
import type {
  EntryPoint,
  EntryPointContext,
  EntryPointObserver,
  HostedKind,
  ReplicaPath,
} from "./entrypoint.ts";
import { HaproxyEntryPoint } from "./haproxy.ts";
import { PgpoolEntryPoint } from "./pgpool.ts";

export function createEntryPoint(kind: HostedKind, context: EntryPointContext): EntryPoint {
  switch (kind) {
    case "haproxy":
      return new HaproxyEntryPoint(context);
    case "pgpool":
      return new PgpoolEntryPoint(context);
    case "dns":
      return new DnsEntryPoint(context);
  }
}

/**
 * The cluster as faults and reports see it: the topology's members plus its entry points, so an
 * entry point is a swimlane and a fault target like any other member, and healing a killed
 * entry point restarts it.
 */
export class ClusterWithEntryPoints implements Topology {
  constructor(
    private readonly topology: Topology,
    private readonly entryPoints: EntryPoint[],
    private readonly context: Pick<EntryPointContext, "backend">,
  ) {}

  private entryPointOn(member: string): EntryPoint | undefined {
    return this.entryPoints.find((e) => e.member === member);
  }

  get name(): string {
    return this.topology.name;
  }

  members(): Member[] {
    return [
      ...this.topology.members(),
      ...this.entryPoints.map((e) => describeMember(this.context.backend, e.member, "entrypoint")),
    ];
  }

  postgresMembers(): string[] {
    return this.topology.postgresMembers();
  }

  connectionUri(): Promise<string> {
    return this.topology.connectionUri();
  }

  start(): Promise<void> {
    return this.topology.start();
  }

  /** Entry points start once the cluster is healthy: a proxy needs a primary to route to. */
  async startEntryPoints(): Promise<void> {
    for (const entryPoint of this.entryPoints) await entryPoint.start();
  }

  /** The name service, when the run has one: its host's resolver is what clients by name use. */
  nameService(): DnsEntryPoint | undefined {
    return this.entryPoints.find((e): e is DnsEntryPoint => e instanceof DnsEntryPoint);
  }

  /**
   * Starts what follows the HA manager as it acts: what moves entry points, and the HA client's own
   * watch (topology.watch); the returned function stops it all.
   */
  follow(observer: EntryPointObserver): () => Promise<void> {
    const stops = [
      ...this.entryPoints.flatMap((e) => (e.follow ? [e.follow(observer)] : [])),
      ...(this.topology.watch ? [this.topology.watch()] : []),
    ];
    return async () => {
      await Promise.all(stops.map((stop) => stop()));
    };
  }

  status(): Promise<ClusterStatus> {
    return this.topology.status();
  }

  switchover(candidate: string | null): Promise<void> {
    return this.topology.switchover(candidate);
  }

  dataDir(member: string): string {
    return this.topology.dataDir(member);
  }

  configure(member: string, parameters: Parameters): Promise<void> {
    return this.topology.configure(member, parameters);
  }

  /** A proxy has nothing to shut down cleanly: its stop is its kill. */
  async stopMember(member: string): Promise<void> {
    const entryPoint = this.entryPointOn(member);
    if (!entryPoint) return this.topology.stopMember(member);
    await this.context.backend.member(member).signalAll("SIGTERM");
  }

  startMember(member: string, mode: StartMode): Promise<void> {
    const entryPoint = this.entryPointOn(member);
    return entryPoint ? entryPoint.restart() : this.topology.startMember(member, mode);
  }

  get agentCommand(): RegExp {
    return this.topology.agentCommand;
  }

  startAgent(member: string): Promise<void> {
    return this.topology.startAgent(member);
  }

  promotions(): Promise<HaPromotion[]> {
    return this.topology.promotions();
  }

  haEvents(): Promise<HaEvent[]> {
    return this.topology.haEvents();
  }

  endpoint(member: string): PostgresEndpoint {
    const entryPoint = this.entryPointOn(member);
    return entryPoint ? entryPoint.endpoint() : this.topology.endpoint(member);
  }

  /** A proxy's read-only path; null for a proxy without one (or a member that is no proxy). */
  replicaPath(member: string): ReplicaPath | null {
    return this.entryPointOn(member)?.replicaPath?.() ?? null;
  }

  async versions(): Promise<Record<string, string>> {
    const versions = await this.topology.versions();
    for (const entryPoint of this.entryPoints) versions[entryPoint.kind] = await entryPoint.version();
    return versions;
  }

  settings(): Record<string, unknown> {
    const settings = this.topology.settings();
    return this.entryPoints.length > 0
      ? { ...settings, entrypoints: this.entryPoints.map((e) => e.kind) }
      : settings;
  }

  logFiles(member: string): string[] {
    const entryPoint = this.entryPointOn(member);
    return entryPoint ? entryPoint.logFiles() : this.topology.logFiles(member);
  }
}
