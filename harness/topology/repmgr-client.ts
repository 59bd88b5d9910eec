import type { StartedBackend } from "../backend/backend.ts";
import { nodesUri, postgresEndpoint } from "./members.ts";
import { countStreaming, readForkLsn, synchronousStandbyAddresses, withConnection } from "./sql.ts";
import type {
  ClientLogin,
  ClusterStatus,
  HaClient,
  HaEvent,
  HaPromotion,
  PostgresEndpoint,
} from "./topology.ts";

interface EventRow {
  ms: number;
  node_name: string | null;
  event: string;
  successful: boolean;
  details: string | null;
}

export interface RepmgrClientOptions {
  login: ClientLogin;
  /** The witness's member name; null: a cluster without one. */
  witness: string | null;
  /** Runs `repmgr <args>` on a member with its own repmgr.conf; resolves with its stdout. */
  repmgr: (member: string, args: string[], timeoutMs?: number) => Promise<string>;
  /** Each member's repmgr node_name where it differs from the member's name (an attached cluster's). */
  nodeNames?: ReadonlyMap<string, string>;
}

/**
 * repmgr as its nodes describe it: roles from each node's recovery state, history from
 * repmgr.events, switchover through `repmgr standby switchover` on the candidate.
 */
export class RepmgrClient implements HaClient {
  readonly name = "repmgr";
  /** The primary's timeline when the successful standby_promote events numbered `promotes`: a fresh cluster's. */
  private origin = { timeline: 1, promotes: 0 };

  constructor(
    private readonly backend: StartedBackend,
    private readonly nodes: string[],
    private readonly options: RepmgrClientOptions,
  ) {}

  postgresMembers(): string[] {
    return this.nodes;
  }

  async connectionUri(): Promise<string> {
    return nodesUri(this.backend, this.nodes);
  }

  /**
   * `repmgr standby switchover`, run on the candidate: it pauses every repmgrd, stops the old primary
   * over SSH, promotes, rejoins the old primary and has the other nodes (and the witness) follow.
   * Without a named candidate, the replica that has replayed the most WAL.
   */
  async switchover(candidate: string | null): Promise<void> {
    const target = candidate ?? (await this.mostAdvancedReplica());
    await this.options.repmgr(target, ["standby", "switchover", "--siblings-follow"], 180_000);
  }

  private async mostAdvancedReplica(): Promise<string> {
    const { replicas } = await this.status();
    const replayed = await Promise.all(
      replicas.map(async (member) => {
        const bytes = await withConnection(this.endpoint(member), async (client) => {
          const row = (await client.query<{ n: string }>("select pg_last_wal_replay_lsn() - '0/0' as n"))
            .rows[0];
          return Number(row?.n) || 0;
        });
        return { member, bytes };
      }),
    );
    replayed.sort((a, b) => b.bytes - a.bytes || a.member.localeCompare(b.member));
    const best = replayed[0];
    if (!best) throw new Error("no replica to switch over to");
    return best.member;
  }

  /**
   * repmgr has no single authority: every node that answers is asked whether it is in recovery,
   * and the primary is the writable node most replicas stream from.
   */
  async status(): Promise<ClusterStatus> {
    const writable: { member: string; streaming: number }[] = [];
    const replicas: string[] = [];
    let answered = 0;
    await Promise.all(
      this.nodes.map(async (member) => {
        try {
          const row = await withConnection(
            this.endpoint(member),
            async (client) =>
              (await client.query<{ recovery: boolean }>("select pg_is_in_recovery() as recovery")).rows[0],
          );
          answered += 1;
          if (row?.recovery) replicas.push(member);
          else writable.push({ member, streaming: await countStreaming(this.endpoint(member)) });
        } catch {
          // down or unreachable
        }
      }),
    );
    writable.sort((a, b) => b.streaming - a.streaming || a.member.localeCompare(b.member));
    const primary = writable[0]?.member ?? null;
    // repmgr leaves synchronous replication to PostgreSQL: ask the primary which standbys count.
    const syncAddresses = primary ? await synchronousStandbyAddresses(this.endpoint(primary)) : [];
    const syncStandbys = this.nodes.filter((n) => syncAddresses.includes(this.backend.member(n).address));
    const status = { reachable: answered > 0, primary, syncStandbys, replicas: replicas.sort() };
    if (!primary)
      return { ...status, healthy: false, detail: answered > 0 ? "no writable node" : "no node answers" };
    if (writable.length > 1) {
      return {
        ...status,
        healthy: false,
        detail: `${writable.map((w) => w.member).join(" and ")} are both writable`,
      };
    }
    const streaming = writable[0]?.streaming ?? 0;
    if (streaming < this.nodes.length - 1) {
      return {
        ...status,
        healthy: false,
        detail: `${streaming}/${this.nodes.length - 1} replicas streaming from ${primary}`,
      };
    }
    const { witness } = this.options;
    const witnessUp =
      witness === null
        ? null
        : await withConnection(this.endpoint(witness), async () => true).catch(() => false);
    if (witnessUp === false) return { ...status, healthy: false, detail: "witness down" };
    return { ...status, healthy: true, detail: `primary ${primary}, ${streaming} streaming` };
  }

  private async events(): Promise<EventRow[]> {
    const primary = (await this.status()).primary;
    if (!primary) return [];
    try {
      return await withConnection({ ...this.endpoint(primary), database: "repmgr" }, async (client) => {
        const result = await client.query<EventRow>(
          `select (extract(epoch from e.event_timestamp) * 1000)::float8 as ms, n.node_name, e.event,
                  e.successful, e.details
             from repmgr.events e left join repmgr.nodes n using (node_id) order by e.event_timestamp`,
        );
        return result.rows.map((row) => ({ ...row, node_name: this.memberNamed(row.node_name) }));
      });
    } catch {
      return [];
    }
  }

  /** The member a repmgr node_name belongs to (itself unless nodeNames says otherwise). */
  private memberNamed(nodeName: string | null): string | null {
    for (const [member, name] of this.options.nodeNames ?? []) if (name === nodeName) return member;
    return nodeName;
  }

  /**
   * Numbers the promotions of a cluster that has a history: the timeline its primary is on now
   * and the standby_promote events recorded so far (a fresh cluster's: timeline 1, none). Every
   * later successful standby_promote is the next timeline.
   */
  async anchorTimelines(): Promise<void> {
    const primary = (await this.status()).primary;
    if (!primary) throw new Error("no primary to read the current timeline from");
    const timeline = await withConnection(this.endpoint(primary), async (client) => {
      const result = await client.query<{ timeline: number }>(
        "select ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int as timeline",
      );
      return result.rows[0]?.timeline;
    });
    if (!timeline) throw new Error(`${primary} reported no timeline`);
    const promotes = (await this.events()).filter((e) => e.event === "standby_promote" && e.successful);
    this.origin = { timeline, promotes: promotes.length };
  }

  /** Each successful standby_promote creates the next timeline; its fork point is in the history file. */
  async promotions(): Promise<HaPromotion[]> {
    const promotes = (await this.events()).filter((e) => e.event === "standby_promote" && e.successful);
    const primary = (await this.status()).primary;
    const promotions: HaPromotion[] = [];
    for (const [index, event] of promotes.entries()) {
      if (index < this.origin.promotes) continue;
      const timeline = this.origin.timeline + index - this.origin.promotes + 1;
      promotions.push({
        wallMs: event.ms,
        member: event.node_name ?? "?",
        timeline,
        forkLsn: primary ? await readForkLsn(this.endpoint(primary), timeline) : null,
        reason: event.details ?? "",
      });
    }
    return promotions;
  }

  async haEvents(): Promise<HaEvent[]> {
    return (await this.events()).map((e) => ({
      wallMs: e.ms,
      member: e.node_name,
      text: `${e.event}${e.successful ? "" : " (failed)"}: ${e.details ?? ""}`,
    }));
  }

  endpoint(member: string): PostgresEndpoint {
    return postgresEndpoint(this.backend.member(member), this.options.login);
  }
}
