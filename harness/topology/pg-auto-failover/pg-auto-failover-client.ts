import type pg from "pg";
import type { StartedBackend } from "../../backend/backend.ts";
import type { ClientLogin, ClusterStatus, PostgresEndpoint } from "../../model/cluster.ts";
import { POSTGRES_PORT, postgresEndpoint } from "../members.ts";
import { countStreaming, readForkLsn, synchronousStandbyAddresses, withConnection } from "../sql.ts";
import type { HaClient, HaEvent, HaPromotion } from "../topology.ts";

/** States in which a node is the writable primary, once it reports the state the monitor assigned. */
const PRIMARY_STATES = new Set(["single", "wait_primary", "primary", "join_primary", "apply_settings"]);

export interface NodeRow {
  /** The member this row is about (see memberOf), not necessarily the monitor's own nodename. */
  nodename: string;
  /** host:port as the monitor knows the node (`pg_autoctl create --hostname --pgport`). */
  nodehost: string;
  reportedstate: string;
  goalstate: string;
  health: number;
}

interface EventRow {
  ms: number;
  nodename: string;
  nodehost: string;
  reportedstate: string;
  goalstate: string;
  reportedtli: number;
  description: string;
}

export interface PgAutoFailoverClientOptions {
  login: ClientLogin;
  /** The monitor's member name. */
  monitor: string;
  /** Runs `pg_autoctl <args>` on the monitor, against its own data directory; resolves with its stdout. */
  autoctl: (args: string[], timeoutMs?: number) => Promise<string>;
}

/**
 * pg_auto_failover as its monitor describes it: roles and health from pgautofailover.node, history
 * from pgautofailover.event, switchover and the formation URI from `pg_autoctl` on the monitor.
 * Nothing here depends on how the monitor and nodes were created.
 */
export class PgAutoFailoverClient implements HaClient {
  readonly name = "pg_auto_failover";

  constructor(
    private readonly backend: StartedBackend,
    private readonly nodes: string[],
    private readonly options: PgAutoFailoverClientOptions,
  ) {}

  postgresMembers(): string[] {
    return this.nodes;
  }

  /** `perform switchover` lets the monitor pick the candidate; `perform promotion` promotes a named node. */
  async switchover(candidate: string | null): Promise<void> {
    const args = candidate
      ? ["perform", "promotion", "--formation", "default", "--name", candidate]
      : ["perform", "switchover", "--formation", "default"];
    await this.options.autoctl([...args, "--wait", "60"], 90_000);
  }

  withMonitor<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
    return withConnection({ ...this.endpoint(this.options.monitor), database: "pg_auto_failover" }, use);
  }

  async monitorNodes(): Promise<NodeRow[] | undefined> {
    try {
      return await this.withMonitor(async (client) => {
        const result = await client.query<NodeRow>(
          `select nodename, nodehost || ':' || nodeport as nodehost, reportedstate::text, goalstate::text, health
             from pgautofailover.node order by nodeid`,
        );
        return result.rows.map((row) => ({ ...row, nodename: this.memberOf(row) }));
      });
    } catch {
      return undefined;
    }
  }

  async status(): Promise<ClusterStatus> {
    const rows = await this.monitorNodes();
    const empty = { reachable: false, primary: null, syncStandbys: [], replicas: [], healthy: false };
    if (!rows) return { ...empty, detail: "the monitor does not answer" };
    const settled = (row: NodeRow) => row.reportedstate === row.goalstate;
    const primary =
      rows.find((row) => settled(row) && PRIMARY_STATES.has(row.reportedstate))?.nodename ?? null;
    const replicas = rows.filter((row) => row.reportedstate === "secondary").map((row) => row.nodename);
    const syncStandbys = primary ? await this.syncStandbys(primary) : [];
    const status = { reachable: true, primary, syncStandbys, replicas };
    const states = rows.map(
      (row) => `${row.nodename}:${row.reportedstate}${settled(row) ? "" : `→${row.goalstate}`}`,
    );
    const detail = states.join(" ");
    const missing = this.nodes.filter((n) => !rows.some((row) => row.nodename === n));
    if (!primary) return { ...status, healthy: false, detail: `no primary (${detail})` };
    if (missing.length > 0)
      return { ...status, healthy: false, detail: `not registered: ${missing.join(", ")}` };
    const unsettled = rows.filter(
      (row) =>
        !settled(row) || row.health !== 1 || !["primary", "secondary", "single"].includes(row.reportedstate),
    );
    if (unsettled.length > 0) return { ...status, healthy: false, detail };
    const streaming = await countStreaming(this.endpoint(primary));
    if (streaming < this.nodes.length - 1) {
      return {
        ...status,
        healthy: false,
        detail: `${streaming}/${this.nodes.length - 1} streaming (${detail})`,
      };
    }
    return { ...status, healthy: true, detail: `primary ${primary}, ${streaming} streaming` };
  }

  /** Standbys PostgreSQL itself counts as synchronous (sync or quorum), as the primary reports them. */
  private async syncStandbys(primary: string): Promise<string[]> {
    const addresses = await synchronousStandbyAddresses(this.endpoint(primary));
    return this.nodes.filter((n) => addresses.includes(this.backend.member(n).address));
  }

  /** The formation URI exactly as `pg_autoctl show uri` prints it: postgres://h1:p,h2:p/db?target_session_attrs=read-write… */
  async connectionUri(): Promise<string> {
    const output = await this.options.autoctl(["show", "uri", "--formation", "default"]);
    const uri = output
      .split("\n")
      .find((line) => line.includes("target_session_attrs"))
      ?.trim()
      .split(/\s+/)
      .pop();
    if (!uri) throw new Error(`pg_autoctl show uri printed no formation URI: ${output.trim()}`);
    return uri;
  }

  private async events(): Promise<EventRow[]> {
    try {
      return await this.withMonitor(async (client) => {
        const result = await client.query<EventRow>(
          `select (extract(epoch from eventtime) * 1000)::float8 as ms, nodename,
                  nodehost || ':' || nodeport as nodehost, reportedstate::text, goalstate::text,
                  reportedtli, description
             from pgautofailover.event order by eventid`,
        );
        return result.rows.map((row) => ({ ...row, nodename: this.memberOf(row) }));
      });
    } catch {
      return [];
    }
  }

  /**
   * A promotion is the first event reporting a timeline above every timeline reported before it.
   * The fork point comes from PostgreSQL's own timeline history file on the node now primary.
   */
  async promotions(): Promise<HaPromotion[]> {
    const promotions: HaPromotion[] = [];
    let highest = 1;
    const events = await this.events();
    for (const event of events) {
      if (event.reportedtli <= highest) continue;
      highest = event.reportedtli;
      // The first node to report a new timeline may be a standby that already follows it (seen in a
      // switchover: "n3 marked unhealthy" on timeline 2 before n2 reported it): the promoted node is
      // the one reporting that timeline in a primary state, when the monitor recorded one.
      const promoted =
        events.find((e) => e.reportedtli === event.reportedtli && PRIMARY_STATES.has(e.reportedstate)) ??
        event;
      promotions.push({
        wallMs: promoted.ms,
        member: promoted.nodename,
        timeline: promoted.reportedtli,
        forkLsn: null,
        reason: promoted.description,
      });
    }
    const primary = (await this.status()).primary;
    if (primary) {
      for (const promotion of promotions) {
        promotion.forkLsn = await readForkLsn(this.endpoint(primary), promotion.timeline);
      }
    }
    return promotions;
  }

  async haEvents(): Promise<HaEvent[]> {
    return (await this.events()).map((event) => ({
      wallMs: event.ms,
      member: event.nodename,
      text: `${event.reportedstate} → ${event.goalstate}: ${event.description}`,
    }));
  }

  /**
   * The member a monitor row is about: the one at the row's host and port, else the one of its
   * name. A cluster pgchaos did not create names its nodes as its operator did (`node_1` by
   * default), while its hosts are what every member's config points at.
   */
  private memberOf(row: { nodename: string; nodehost: string }): string {
    const at = this.nodes.find((node) => {
      const { address } = this.backend.member(node);
      return `${address}:${POSTGRES_PORT}` === row.nodehost;
    });
    return at ?? row.nodename;
  }

  endpoint(member: string): PostgresEndpoint {
    return postgresEndpoint(this.backend.member(member), this.options.login);
  }
}
