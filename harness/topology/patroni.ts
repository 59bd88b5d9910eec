import { join } from "node:path";
import { parse, stringify } from "yaml";
import { httpRequest } from "../common/http.ts";
import { renderFixture } from "../common/template.ts";
import type { Member } from "../run/record.ts";
import { formatLsn } from "../verify/lsn.ts";
import { EtcdCluster } from "./etcd.ts";
import {
  componentVersions,
  dataDirOf,
  describeMember,
  nodeNames,
  postgresEndpoint,
  processLog,
  runAsPostgres,
  stopGracefully,
  writeConfig,
} from "./members.ts";
import { parsePatroniLog } from "./patroni-log.ts";
import { type Parameters, countStreaming } from "./sql.ts";
import type {
  ClusterStatus,
  HaEvent,
  HaPromotion,
  PostgresEndpoint,
  StartMode,
  Topology,
  TopologyContext,
  TopologyKind,
} from "./topology.ts";
import { multiHostUri } from "./uri.ts";

const ETCD_NAMES = ["e1", "e2", "e3"];
const REST_TIMEOUT_MS = 1000;
/** A replica that is up: Patroni 3.0 says "running", Patroni ≥ 3.1 (4.0 included) "streaming". */
const REPLICA_UP = new Set(["running", "streaming"]);

interface PatroniMember {
  name: string;
  role: string;
  state: string;
  timeline?: number;
  lag?: number | string;
}

/** Patroni over a 3-member etcd: one host per PostgreSQL node and per etcd member. */
export const patroni: TopologyKind = {
  members: (scenario) => [
    ...nodeNames(scenario.cluster.nodes).map((name) => ({ name, kind: "postgres" as const })),
    ...ETCD_NAMES.map((name) => ({ name, kind: "dcs" as const })),
  ],
  create: (context) => new PatroniTopology(context),
};

class PatroniTopology implements Topology {
  readonly name = "patroni";
  private readonly nodes: string[];
  private readonly etcd: EtcdCluster;
  private readonly dcs: Record<string, unknown>;

  constructor(private readonly context: TopologyContext) {
    this.nodes = nodeNames(context.scenario.cluster.nodes);
    this.etcd = new EtcdCluster(context.backend, context.runId, ETCD_NAMES);
    this.dcs = this.dcsSettings();
  }

  members(): Member[] {
    const { backend } = this.context;
    return [
      ...this.nodes.map((name) => describeMember(backend, name, "postgres")),
      ...this.etcd.names.map((name) => describeMember(backend, name, "dcs")),
    ];
  }

  postgresMembers(): string[] {
    return this.nodes;
  }

  async connectionUri(): Promise<string> {
    return multiHostUri(
      this.nodes.map((node) => ({ host: this.context.backend.member(node).address, port: 5432 })),
    );
  }

  /** bootstrap.dcs: the fixture's defaults, the scenario's replication mode, then every key the scenario passes. */
  private dcsSettings(): Record<string, unknown> {
    const base = parse(renderFixture("patroni/patroni.yml", placeholderValues())) as {
      bootstrap: { dcs: Record<string, unknown> };
    };
    const { cluster } = this.context.scenario;
    return {
      ...base.bootstrap.dcs,
      synchronous_mode: cluster.replication === "sync",
      ...(cluster.ha.patroni ?? {}),
    };
  }

  async start(): Promise<void> {
    const { backend } = this.context;
    await this.etcd.configure();
    for (const name of this.nodes) {
      const member = backend.member(name);
      const config = parse(
        renderFixture("patroni/patroni.yml", {
          run_id: this.context.runId,
          name,
          address: member.address,
          etcd_hosts: this.etcd.clientUrls(),
          dir: member.dir,
          bin_dir: backend.stack.postgresBin,
          password: this.context.password,
          subnet: backend.subnet,
        }),
      ) as { bootstrap: { dcs: Record<string, unknown> } };
      config.bootstrap.dcs = this.dcs;
      await writeConfig(member, "patroni.yml", stringify(config));
    }
    await Promise.all(this.etcd.names.map((name) => this.etcd.start(name)));
    await Promise.all(this.nodes.map((name) => this.startMember(name)));
  }

  dataDir(member: string): string {
    return dataDirOf(this.context.backend.member(member));
  }

  async stopMember(member: string): Promise<void> {
    await stopGracefully(this.context.backend.member(member), /\/usr\/bin\/patroni /);
  }

  async startMember(member: string, _mode?: StartMode): Promise<void> {
    if (this.etcd.names.includes(member)) return this.etcd.start(member);
    const host = this.context.backend.member(member);
    await runAsPostgres(this.context.backend, host, ["/usr/bin/patroni", join(host.dir, "patroni.yml")]);
  }

  async switchover(candidate: string | null): Promise<void> {
    const leader = (await this.status()).primary;
    if (!leader) throw new Error("switchover: no leader to switch over from");
    const answer = await httpRequest(this.restUrl(leader, "/switchover"), {
      method: "POST",
      body: JSON.stringify(candidate ? { leader, candidate } : { leader }),
      timeoutMs: 60_000,
    });
    if (answer.status !== 200)
      throw new Error(`switchover: Patroni answered ${answer.status}: ${answer.body}`);
  }

  /** Patroni owns postgresql.conf: parameters go into its DCS config (PATCH /config), for every member. */
  async configure(_member: string, parameters: Parameters): Promise<void> {
    const body = JSON.stringify({ postgresql: { parameters } });
    if (!(await this.rest("/config", { method: "PATCH", body }))) {
      throw new Error("no Patroni REST API accepted PATCH /config");
    }
  }

  private restUrl(member: string, path: string): string {
    const { host, port } = this.context.backend.member(member).endpoint(8008);
    return `http://${host}:${port}${path}`;
  }

  /**
   * First answer from any node's REST API: every member serves the whole cluster's view from the DCS
   * (and takes a change to it, such as PATCH /config).
   */
  private async rest<T>(
    path: string,
    request: { method: string; body: string } | null = null,
  ): Promise<T | undefined> {
    for (const member of this.nodes) {
      try {
        const answer = await httpRequest(this.restUrl(member, path), {
          ...request,
          timeoutMs: REST_TIMEOUT_MS,
        });
        if (answer.status === 200) return JSON.parse(answer.body) as T;
      } catch {
        // try the next member
      }
    }
    return undefined;
  }

  async status(): Promise<ClusterStatus> {
    const cluster = await this.rest<{ members?: PatroniMember[] }>("/cluster");
    const empty = { reachable: false, primary: null, syncStandbys: [], replicas: [], healthy: false };
    if (!cluster?.members) return { ...empty, detail: "no Patroni REST API answered" };
    const members = cluster.members;
    const leader = members.find((m) => m.role === "leader" && m.state === "running");
    const replicas = members
      .filter((m) => m.role === "replica" || m.role === "sync_standby")
      .map((m) => m.name);
    const syncStandbys = members.filter((m) => m.role === "sync_standby").map((m) => m.name);
    const status = { reachable: true, primary: leader?.name ?? null, syncStandbys, replicas };
    if (!leader) return { ...status, healthy: false, detail: "no running leader" };
    const notRunning = this.nodes.filter(
      (n) =>
        n !== leader.name &&
        !members.some((m) => m.name === n && REPLICA_UP.has(m.state) && m.lag !== "unknown"),
    );
    if (notRunning.length > 0)
      return { ...status, healthy: false, detail: `not running: ${notRunning.join(", ")}` };
    if (this.dcs.synchronous_mode === true && syncStandbys.length === 0) {
      return { ...status, healthy: false, detail: "no synchronous standby yet" };
    }
    const streaming = await countStreaming(this.endpoint(leader.name));
    if (streaming < this.nodes.length - 1) {
      return {
        ...status,
        healthy: false,
        detail: `${streaming}/${this.nodes.length - 1} replicas streaming`,
      };
    }
    return { ...status, healthy: true, detail: `leader ${leader.name}, ${streaming} streaming` };
  }

  async promotions(): Promise<HaPromotion[]> {
    // Each entry: [timeline it ended, switch LSN as an integer, reason, timestamp, new leader].
    const history = await this.rest<unknown[][]>("/history");
    if (!history) return [];
    return history.flatMap((entry): HaPromotion[] => {
      const [timeline, lsn, reason, timestamp, leader] = entry;
      if (typeof timeline !== "number" || typeof timestamp !== "string" || typeof leader !== "string")
        return [];
      return [
        {
          wallMs: Date.parse(timestamp),
          member: leader,
          timeline: timeline + 1,
          forkLsn: typeof lsn === "number" ? formatLsn(BigInt(lsn)) : null,
          reason: typeof reason === "string" ? reason : "",
        },
      ];
    });
  }

  async haEvents(): Promise<HaEvent[]> {
    const events: HaEvent[] = [];
    for (const member of this.nodes) {
      for (const file of this.logFiles(member)) {
        const text = (await this.context.backend.member(member).readFile(file)) ?? "";
        for (const event of parsePatroniLog(text)) events.push({ ...event, member });
      }
    }
    return events;
  }

  endpoint(member: string): PostgresEndpoint {
    return postgresEndpoint(this.context.backend.member(member), this.context.password);
  }

  async versions(): Promise<Record<string, string>> {
    const { backend } = this.context;
    const [node, dcs] = [this.nodes[0] ?? "n1", this.etcd.names[0] ?? "e1"];
    return {
      ...(await componentVersions(backend.member(node), {
        postgresql: `${backend.stack.postgresBin}/postgres`,
        patroni: "/usr/bin/patroni",
      })),
      ...(await componentVersions(backend.member(dcs), { etcd: "/usr/bin/etcd" })),
    };
  }

  settings(): Record<string, unknown> {
    return {
      nodes: this.nodes.length,
      etcd_members: this.etcd.names.length,
      replication: this.context.scenario.cluster.replication,
      patroni_dcs: this.dcs,
    };
  }

  logFiles(member: string): string[] {
    return [processLog(this.context.backend.member(member))];
  }
}

/** Placeholder values used only to read the fixture's bootstrap.dcs defaults. */
function placeholderValues(): Record<string, string> {
  const keys = ["run_id", "name", "address", "etcd_hosts", "dir", "bin_dir", "password", "subnet"];
  return Object.fromEntries(keys.map((k) => [k, "x"]));
}
