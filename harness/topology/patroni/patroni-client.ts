import type { Socket } from "node:net";
import pg from "pg";
import type { StartedBackend } from "../../backend/backend.ts";
import { httpRequest } from "../../common/http.ts";
import type { ClientLogin, ClusterStatus, PostgresEndpoint } from "../../model/cluster.ts";
import { formatLsn } from "../../verify/lsn.ts";
import { nodesUri, postgresEndpoint } from "../members.ts";
import type { HaClient, HaEvent, HaPromotion } from "../topology.ts";
import { parsePatroniLog } from "./patroni-log.ts";

const REST_TIMEOUT_MS = 1000;
/** Patroni's REST API, on every node (restapi.listen in fixtures/patroni/patroni.yml). */
export const PATRONI_REST_PORT = 8008;
/** A replica that is up: Patroni 3.0 says "running", Patroni ≥ 3.1 (4.0 included) "streaming". */
const REPLICA_UP = new Set(["running", "streaming"]);

/** A member as Patroni's /cluster lists it (role: leader, sync_standby, replica…; lag in bytes or "unknown"). */
export interface PatroniMember {
  name: string;
  role: string;
  state: string;
  timeline?: number;
  lag?: number | string;
}

/**
 * Where a Patroni client reads the cluster from and asks it for a switchover: Patroni's REST API
 * (restSource), or the DCS objects Patroni writes (kubernetesSource, patroni-kubernetes.ts).
 */
export interface PatroniSource {
  /** What the reads come from, for messages ("Patroni REST API", "Kubernetes API"). */
  readonly describe: string;
  /** Members as /cluster lists them; undefined when the source did not answer. */
  cluster(): Promise<PatroniMember[] | undefined>;
  /** Timeline history as /history returns it: [timeline it ended, switch LSN, reason, timestamp, new leader]. */
  history(): Promise<unknown[][] | undefined>;
  /** The planned switchover away from `leader`; resolves once the source says it is done. */
  switchover(leader: string, candidate: string | null): Promise<void>;
  /** Starts following the source's own events as they happen; the returned function stops it. */
  watch?(): () => Promise<void>;
  /** What the source saw happen on its own (the leader lock's acquisitions, losses and lapses). */
  events?(): HaEvent[];
}

export interface PatroniClientOptions {
  login: ClientLogin;
  /** synchronous_mode: healthy then also needs a synchronous standby. */
  synchronous: boolean;
  /** Where each node's Patroni log is, inside the member (the source of notable events). */
  logFiles: (member: string) => string[];
  /** Where status, history and switchovers go: default Patroni's REST API on the nodes. */
  source?: PatroniSource;
  /** The topology's name (default "patroni"): timeline sources and phases are keyed by it. */
  name?: string;
}

/**
 * Patroni as its source (REST API or DCS objects) and its logs describe it. It needs only the
 * members' endpoints and files, not how they were started, so it reads a cluster pgchaos did not
 * deploy just the same.
 */
export class PatroniClient implements HaClient {
  readonly name: string;
  private readonly source: PatroniSource;
  private kept: KeptConnection | undefined;

  constructor(
    private readonly backend: StartedBackend,
    private readonly nodes: string[],
    private readonly options: PatroniClientOptions,
  ) {
    this.name = options.name ?? "patroni";
    this.source = options.source ?? restSource(backend, nodes);
  }

  postgresMembers(): string[] {
    return this.nodes;
  }

  async connectionUri(): Promise<string> {
    return nodesUri(this.backend, this.nodes);
  }

  /**
   * A change to the DCS config (PATCH /config), which Patroni hands to every member. Through the
   * REST API whatever the source: it is how pgchaos configures a cluster it deployed.
   */
  async patchConfig(change: Record<string, unknown>): Promise<void> {
    const body = JSON.stringify(change);
    if (!(await firstRestAnswer(this.backend, this.nodes, "/config", { method: "PATCH", body }))) {
      throw new Error("no Patroni REST API accepted PATCH /config");
    }
  }

  async switchover(candidate: string | null): Promise<void> {
    const leader = (await this.status()).primary;
    if (!leader) throw new Error("switchover: no leader to switch over from");
    await this.source.switchover(leader, candidate);
  }

  watch(): () => Promise<void> {
    return this.source.watch?.() ?? (async () => {});
  }

  async status(): Promise<ClusterStatus> {
    const members = await this.source.cluster();
    const empty = { reachable: false, primary: null, syncStandbys: [], replicas: [], healthy: false };
    if (!members) return { ...empty, detail: `no ${this.source.describe} answered` };
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
    if (this.options.synchronous && syncStandbys.length === 0) {
      return { ...status, healthy: false, detail: "no synchronous standby yet" };
    }
    const streaming = await this.countStreaming(leader.name);
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
    const history = await this.source.history();
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
    const events: HaEvent[] = [...(this.source.events?.() ?? [])];
    for (const member of this.nodes) {
      for (const file of this.options.logFiles(member)) {
        const text = (await this.backend.member(member).readFile(file)) ?? "";
        for (const event of parsePatroniLog(text)) events.push({ ...event, member });
      }
    }
    return events;
  }

  /**
   * Replicas streaming from the leader, as PostgreSQL itself reports them; 0 when it cannot be asked.
   * Asked on every status poll (several a second while a step waits): over one connection kept to
   * the leader, not a new one each time (a connection costs a TCP handshake and a SCRAM exchange).
   */
  private async countStreaming(leader: string): Promise<number> {
    try {
      if (this.kept?.member !== leader || this.kept.broken) {
        this.kept?.client.end().catch(() => {});
        this.kept = await keptConnection(leader, this.endpoint(leader));
      }
      const result = await this.kept.client.query<{ n: number }>({
        text: "select count(*)::int as n from pg_stat_replication where state = 'streaming'",
        // A frozen leader must not hold up the status: the connection is replaced next time.
        query_timeout: REST_TIMEOUT_MS,
      } as pg.QueryConfig);
      return result.rows[0]?.n ?? 0;
    } catch {
      if (this.kept) this.kept.broken = true;
      return 0;
    }
  }

  endpoint(member: string): PostgresEndpoint {
    return postgresEndpoint(this.backend.member(member), this.options.login);
  }
}

function restUrl(backend: StartedBackend, member: string, path: string): string {
  const { host, port } = backend.member(member).endpoint(PATRONI_REST_PORT);
  return `http://${host}:${port}${path}`;
}

/**
 * First answer from any node's REST API: every member serves the whole cluster's view from the DCS
 * (and takes a change to it, such as PATCH /config).
 */
async function firstRestAnswer<T>(
  backend: StartedBackend,
  nodes: string[],
  path: string,
  request: { method: string; body: string } | null = null,
): Promise<T | undefined> {
  for (const member of nodes) {
    try {
      const answer = await httpRequest(restUrl(backend, member, path), {
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

/** Patroni's REST API on the nodes: /cluster, /history, and POST /switchover to the leader. */
export function restSource(backend: StartedBackend, nodes: string[]): PatroniSource {
  return {
    describe: "Patroni REST API",
    cluster: async () =>
      (await firstRestAnswer<{ members?: PatroniMember[] }>(backend, nodes, "/cluster"))?.members,
    history: () => firstRestAnswer<unknown[][]>(backend, nodes, "/history"),
    async switchover(leader, candidate) {
      const answer = await httpRequest(restUrl(backend, leader, "/switchover"), {
        method: "POST",
        body: JSON.stringify(candidate ? { leader, candidate } : { leader }),
        timeoutMs: 60_000,
      });
      if (answer.status !== 200)
        throw new Error(`switchover: Patroni answered ${answer.status}: ${answer.body}`);
    },
  };
}

interface KeptConnection {
  member: string;
  client: pg.Client;
  /** Set when the socket errors or closes: the next poll opens a new one. */
  broken: boolean;
}

async function keptConnection(member: string, endpoint: PostgresEndpoint): Promise<KeptConnection> {
  const client = new pg.Client({
    ...endpoint,
    connectionTimeoutMillis: REST_TIMEOUT_MS,
    application_name: "pgchaos-status",
  });
  const kept = { member, client, broken: false };
  const markBroken = () => {
    kept.broken = true;
  };
  client.on("error", markBroken);
  client.on("end", markBroken);
  try {
    await client.connect();
  } catch (error) {
    client.end().catch(() => {});
    throw error;
  }
  // Never what keeps the harness alive: the run's teardown stops the server at the other end.
  (client.connection.stream as Socket).unref();
  return kept;
}
