import type { StartedBackend } from "../../backend/backend.ts";
import type { ClientLogin, ClusterStatus, PostgresEndpoint } from "../../model/cluster.ts";
import { nodesUri, postgresEndpoint } from "../members.ts";
import { countStreaming, readForkLsn, synchronousStandbyAddresses, withConnection } from "../sql.ts";
import type { HaClient, HaEvent, HaPromotion } from "../topology.ts";

/** One row of repmgr.events as one node's copy holds it (node_name from that copy's repmgr.nodes). */
export interface RepmgrEventRow {
  nodeId: number;
  /** The member the event is about (mapped from repmgr's node_name); null: that copy has no node record. */
  nodeName: string | null;
  event: string;
  /** event_timestamp in microseconds since the epoch, as text: the precision repmgr stores. */
  us: string;
  successful: boolean;
  details: string | null;
}

interface EventRow {
  ms: number;
  node_name: string | null;
  event: string;
  successful: boolean;
  details: string | null;
}

/**
 * One row per distinct event across the copies of repmgr.events read from every node and the
 * witness, ordered by time. A partition leaves each side with events the other never saw (n2's
 * standby_promote is only on n2's side), so every copy counts; replicated rows collapse by
 * node_id, event, timestamp, details and outcome. The node_name is taken from whichever copy knows it.
 */
export function mergeRepmgrEvents(copies: readonly (readonly RepmgrEventRow[])[]): RepmgrEventRow[] {
  const merged = new Map<string, RepmgrEventRow>();
  for (const copy of copies) {
    for (const row of copy) {
      const key = JSON.stringify([row.nodeId, row.event, row.us, row.details, row.successful]);
      const seen = merged.get(key);
      if (!seen) merged.set(key, { ...row });
      else if (seen.nodeName === null && row.nodeName !== null) seen.nodeName = row.nodeName;
    }
  }
  // Stable sort: events in the same microsecond keep the order the first copy listed them in.
  return [...merged.values()].sort((a, b) => {
    const d = BigInt(a.us) - BigInt(b.us);
    return d < 0n ? -1 : d > 0n ? 1 : 0;
  });
}

/** A node's copy of repmgr.nodes: the member it names as the active primary; null: none, or several. */
export interface RepmgrPrimaryView {
  from: string;
  primary: string | null;
}

/**
 * The primary when more than one node is writable: the one repmgr's own metadata names, as most of
 * the witness and the standbys that answered hold it (ties: the witness's view). A view naming a
 * node that is not writable is stale and does not vote. Without a usable view (or on a tie the
 * witness does not settle), the writable node most replicas stream from, ties by name.
 */
export function chooseRepmgrPrimary(
  writable: readonly { member: string; streaming: number }[],
  views: readonly RepmgrPrimaryView[],
  witness: string | null,
): string | null {
  const byStreaming = (candidates: readonly { member: string; streaming: number }[]) =>
    [...candidates].sort((a, b) => b.streaming - a.streaming || a.member.localeCompare(b.member))[0]
      ?.member ?? null;
  if (writable.length <= 1) return byStreaming(writable);
  const votes = new Map<string, number>();
  for (const view of views)
    if (view.primary !== null && writable.some((w) => w.member === view.primary))
      votes.set(view.primary, (votes.get(view.primary) ?? 0) + 1);
  const most = Math.max(0, ...votes.values());
  if (most === 0) return byStreaming(writable);
  const tied = [...votes].filter(([, n]) => n === most).map(([member]) => member);
  if (tied.length === 1) return tied[0] ?? null;
  const witnessView = views.find((v) => v.from === witness)?.primary ?? null;
  if (witnessView !== null && tied.includes(witnessView)) return witnessView;
  return byStreaming(writable.filter((w) => tied.includes(w.member)));
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
   * repmgr has no single authority: every node that answers is asked whether it is in recovery.
   * With one writable node, that is the primary; with several (repmgr promoted a standby and never
   * fenced the old primary), the one repmgr's own metadata names on the witness and the standbys.
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
    const views = writable.length > 1 ? await this.primaryViews(replicas) : [];
    const primary = chooseRepmgrPrimary(writable, views, this.options.witness);
    // repmgr leaves synchronous replication to PostgreSQL: ask the primary which standbys count.
    const syncAddresses = primary ? await synchronousStandbyAddresses(this.endpoint(primary)) : [];
    const syncStandbys = this.nodes.filter((n) => syncAddresses.includes(this.backend.member(n).address));
    const status = { reachable: answered > 0, primary, syncStandbys, replicas: replicas.sort() };
    if (!primary)
      return { ...status, healthy: false, detail: answered > 0 ? "no writable node" : "no node answers" };
    if (writable.length > 1) {
      const namedBy = views.filter((v) => v.primary === primary).map((v) => v.from);
      const why =
        namedBy.length > 0 ? `as ${namedBy.join(", ")} name it` : "no copy names one: most streaming";
      return {
        ...status,
        healthy: false,
        detail: `${writable.map((w) => w.member).join(" and ")} are both writable; primary ${primary} ${why}`,
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

  /** The members whose repmgr database is read: every node, and the witness when there is one. */
  private repmgrHolders(): string[] {
    const { witness } = this.options;
    return witness === null ? this.nodes : [...this.nodes, witness];
  }

  /** Each standby's and the witness's copy of repmgr.nodes: the active primary it names. */
  private async primaryViews(standbys: string[]): Promise<RepmgrPrimaryView[]> {
    const { witness } = this.options;
    const readers = witness === null ? standbys : [...standbys, witness];
    const views = await Promise.all(
      readers.map(async (from): Promise<RepmgrPrimaryView | null> => {
        try {
          const names = await withConnection({ ...this.endpoint(from), database: "repmgr" }, async (client) =>
            (
              await client.query<{ node_name: string }>(
                "select node_name from repmgr.nodes where type = 'primary' and active",
              )
            ).rows.map((row) => row.node_name),
          );
          // Several active primaries in one copy name none for sure.
          return { from, primary: names.length === 1 ? this.memberNamed(names[0] ?? null) : null };
        } catch {
          return null;
        }
      }),
    );
    return views.filter((v): v is RepmgrPrimaryView => v !== null);
  }

  /** repmgr.events from every copy that answers, merged: each side of a partition keeps its own. */
  private async events(): Promise<EventRow[]> {
    const copies = await Promise.all(
      this.repmgrHolders().map(async (member): Promise<RepmgrEventRow[]> => {
        try {
          return await withConnection({ ...this.endpoint(member), database: "repmgr" }, async (client) => {
            const result = await client.query<{
              node_id: number;
              node_name: string | null;
              event: string;
              us: string;
              successful: boolean;
              details: string | null;
            }>(
              `select e.node_id, n.node_name, e.event, e.successful, e.details,
                      (extract(epoch from e.event_timestamp) * 1000000)::bigint::text as us
                 from repmgr.events e left join repmgr.nodes n using (node_id) order by e.event_timestamp`,
            );
            return result.rows.map((row) => ({
              nodeId: row.node_id,
              nodeName: this.memberNamed(row.node_name),
              event: row.event,
              us: row.us,
              successful: row.successful,
              details: row.details,
            }));
          });
        } catch {
          return [];
        }
      }),
    );
    return mergeRepmgrEvents(copies).map((row) => ({
      ms: Number(row.us) / 1000,
      node_name: row.nodeName,
      event: row.event,
      successful: row.successful,
      details: row.details,
    }));
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

  /**
   * Each successful standby_promote creates the next timeline; its fork point is in the history
   * file, read from the promoted node first (an unfenced old primary never has it), then any other.
   */
  async promotions(): Promise<HaPromotion[]> {
    const promotes = (await this.events()).filter((e) => e.event === "standby_promote" && e.successful);
    const promotions: HaPromotion[] = [];
    for (const [index, event] of promotes.entries()) {
      if (index < this.origin.promotes) continue;
      const timeline = this.origin.timeline + index - this.origin.promotes + 1;
      promotions.push({
        wallMs: event.ms,
        member: event.node_name ?? "?",
        timeline,
        forkLsn: await this.forkLsn(event.node_name, timeline),
        reason: event.details ?? "",
      });
    }
    return promotions;
  }

  private async forkLsn(promoted: string | null, timeline: number): Promise<string | null> {
    const order = [...this.nodes.filter((n) => n === promoted), ...this.nodes.filter((n) => n !== promoted)];
    for (const member of order) {
      const lsn = await readForkLsn(this.endpoint(member), timeline);
      if (lsn !== null) return lsn;
    }
    return null;
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
