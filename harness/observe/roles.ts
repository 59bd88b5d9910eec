import pg from "pg";
import type { RunClock } from "../common/clock.ts";
import type { PostgresEndpoint } from "../model/cluster.ts";
import { Cadence } from "../workload/cadence.ts";
import "../workload/scram.ts";
import type { Role, TimelineEvent } from "../model/timeline.ts";
import { readTimelineHistory } from "./timeline-history.ts";

const SAMPLE_EVERY_MS = 100;
const ANSWER_WITHIN_MS = 1000;

// Writable or not, WAL position and timeline in one round trip. A replica's timeline comes from
// its WAL receiver (the checkpoint's lags behind a promotion until the next restartpoint).
const SAMPLE = `select pg_is_in_recovery() as recovery,
  case when pg_is_in_recovery() then coalesce(pg_last_wal_replay_lsn(), pg_last_wal_receive_lsn())::text
       else pg_current_wal_lsn()::text end as lsn,
  case when pg_is_in_recovery()
       then coalesce((select received_tli from pg_stat_wal_receiver), (select timeline_id from pg_control_checkpoint()))
       else ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int end as timeline`;

export interface Sample {
  role: Role;
  timeline: number | null;
  lsn: string | null;
}

/** One role/timeline/WAL-position reading over an open connection. */
export async function sampleNode(client: pg.Client, timeoutMs: number): Promise<Sample> {
  const result = await client.query<{ recovery: boolean; lsn: string | null; timeline: number | null }>({
    text: SAMPLE,
    query_timeout: timeoutMs,
  } as pg.QueryConfig);
  const row = result.rows[0];
  return {
    role: row?.recovery ? "replica" : "primary",
    timeline: row?.timeline ?? null,
    lsn: row?.lsn ?? null,
  };
}

/**
 * Samples every PostgreSQL member's role from outside it (the harness's own namespace) every 100 ms
 * and puts each change on the timeline. "primary" means pg_is_in_recovery() answered false: a
 * node that would accept writes, whatever the HA manager believes.
 */
export class RoleSampler {
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly last = new Map<string, Sample>();
  /** member/timeline → attempts at its history file: read once, tried up to 3 times. */
  private readonly forkAttempts = new Map<string, number>();

  constructor(
    private readonly members: string[],
    private readonly endpoint: (member: string) => PostgresEndpoint,
    private readonly clock: RunClock,
    private readonly emit: (event: TimelineEvent) => void,
    private readonly observer = "outside",
  ) {}

  /**
   * A reading someone else took from the same vantage point (the promote fault's own proof that a
   * replica became writable, which may last less than one sampling period), kept like a sample.
   */
  observe(member: string, sample: Sample, at_ns: number): void {
    this.record(member, sample, at_ns);
  }

  start(): void {
    this.running = true;
    this.loops = this.members.map((member) => this.sampleLoop(member));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async sampleLoop(member: string): Promise<void> {
    let client: pg.Client | undefined;
    const cadence = new Cadence(SAMPLE_EVERY_MS);
    while (this.running) {
      let sample: Sample;
      try {
        client ??= await this.connect(member);
        sample = await sampleNode(client, ANSWER_WITHIN_MS);
        await this.readFork(member, client, sample);
      } catch (error) {
        sample = { role: roleOfError(error), timeline: null, lsn: null };
        client?.end().catch(() => {});
        client = undefined;
      }
      this.record(member, sample);
      await cadence.next();
    }
    await client?.end().catch(() => {});
  }

  /**
   * The first time a member is sampled primary on a timeline, its history file says where that
   * timeline forked off: read it then, on the promoted node itself, since a later rewind or a
   * discarded timeline can take the file away before the run ends.
   */
  private async readFork(member: string, client: pg.Client, sample: Sample): Promise<void> {
    if (sample.role !== "primary" || sample.timeline === null || sample.timeline <= 1) return;
    const key = `${member}\u0000${sample.timeline}`;
    const attempts = this.forkAttempts.get(key) ?? 0;
    if (attempts < 0 || attempts >= 3) return;
    this.forkAttempts.set(key, attempts + 1);
    const at_ns = this.clock.nowNs();
    const forks = await readTimelineHistory(client, sample.timeline, ANSWER_WITHIN_MS).catch(() => null);
    const fork = forks?.at(-1);
    if (!fork) return;
    this.forkAttempts.set(key, -1);
    this.emit({ at_ns, kind: "fork", member, ...fork });
  }

  private async connect(member: string): Promise<pg.Client> {
    const client = new pg.Client({
      ...this.endpoint(member),
      connectionTimeoutMillis: ANSWER_WITHIN_MS,
      application_name: "pgchaos-observer",
    });
    client.on("error", () => {});
    try {
      await client.connect();
    } catch (error) {
      client.end().catch(() => {});
      throw error;
    }
    return client;
  }

  private record(member: string, sample: Sample, at_ns = this.clock.nowNs()): void {
    const previous = this.last.get(member);
    this.last.set(member, sample);
    if (previous && previous.role === sample.role && previous.timeline === sample.timeline) return;
    this.emit({
      at_ns,
      kind: "role",
      member,
      role: sample.role,
      observer: this.observer,
      timeline: sample.timeline,
      lsn: sample.lsn,
    });
  }
}

/** Refused or rejected by a server that is starting/stopping: down. No answer in time: unreachable. */
function roleOfError(error: unknown): Role {
  const message = (error as Error).message ?? "";
  const code = (error as { code?: unknown }).code;
  if (code === "ETIMEDOUT" || code === "EHOSTUNREACH" || /timeout/i.test(message)) return "unreachable";
  return "down";
}
