/**
 * The leader lock as Patroni keeps it on the Kubernetes API (`use_endpoints: true`): annotations
 * on the `<scope>` Endpoints — leader, acquireTime, renewTime, transitions, ttl — which the leader
 * patches on every HA cycle. Pure: it is fed what a watch saw, with the harness's wall time of
 * each sighting, and says what is worth a place on the timeline. A renewal each loop_wait would
 * flood it, so renewals are counted, and only acquisitions, releases, lapses and expiries are events.
 */

/** The leader record as Patroni's kubernetes DCS reads it (kubernetes.py _cluster_from_nodes). */
export interface LeaderRecord {
  leader: string | null;
  acquireTime: string | null;
  renewTime: string | null;
  transitions: string | null;
  ttl: string | null;
}

export interface LockEvent {
  wallMs: number;
  member: string | null;
  text: string;
}

/** Patroni's defaults (config.py), used until the cluster's own config annotation is seen. */
const DEFAULT_TTL_S = 30;
const DEFAULT_LOOP_WAIT_S = 10;

/** The leader record out of an object's annotations; null when the object holds no leader record at all. */
export function leaderRecord(annotations: Record<string, string> | undefined | null): LeaderRecord | null {
  const a = annotations ?? {};
  const keys = ["leader", "acquireTime", "renewTime", "transitions", "ttl"] as const;
  if (!keys.some((key) => a[key] !== undefined)) return null;
  return {
    leader: a.leader || null,
    acquireTime: a.acquireTime ?? null,
    renewTime: a.renewTime ?? null,
    transitions: a.transitions ?? null,
    ttl: a.ttl ?? null,
  };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Follows one cluster's leader lock. Patroni judges the lock by when it last *saw the record
 * change*, not by renewTime (its own clock): the lock of a leader whose record has not changed
 * for ttl seconds is expired for every member. The tracker judges the same way, with its own
 * sightings, so a lapse or an expiry here is one the members saw too (within the watch's delay).
 */
export class LeaderLockTracker {
  private holder: string | null = null;
  private acquireTime: string | null = null;
  private record: string | null = null;
  /** When the record last changed (harness wall time), and when the holder's tenure began. */
  private changedMs = 0;
  private tenureMs = 0;
  private renewalsInTenure = 0;
  private renewalsTotal = 0;
  private lapsed = false;
  private expired = false;
  private seen = false;
  private ttlS = DEFAULT_TTL_S;
  private loopWaitS = DEFAULT_LOOP_WAIT_S;
  private readonly out: LockEvent[] = [];

  /** The cluster's dynamic config (the `config` annotation): its ttl and loop_wait set the lapse and expiry. */
  configure(config: { ttl?: unknown; loop_wait?: unknown }): void {
    const ttl = Number(config.ttl);
    const loopWait = Number(config.loop_wait);
    if (Number.isFinite(ttl) && ttl > 0) this.ttlS = ttl;
    if (Number.isFinite(loopWait) && loopWait > 0) this.loopWaitS = loopWait;
  }

  /** No renewal for this long is a lapse: the leader missed at least one HA cycle. */
  private lapseMs(): number {
    return 2 * this.loopWaitS * 1000;
  }

  private ttlMs(record: LeaderRecord | null): number {
    const own = Number(record?.ttl);
    return (Number.isFinite(own) && own > 0 ? own : this.ttlS) * 1000;
  }

  private emit(wallMs: number, member: string | null, text: string): void {
    this.out.push({ wallMs, member, text });
  }

  /** The end of the holder's tenure, with how long it lasted and its renewals: `what` says how it ended. */
  private endTenure(wallMs: number, what: (holder: string) => string): void {
    if (this.holder === null) return;
    const renewals = `${this.renewalsInTenure} renewal${this.renewalsInTenure === 1 ? "" : "s"} seen`;
    this.emit(
      wallMs,
      this.holder,
      `${what(this.holder)}: held ${seconds(wallMs - this.tenureMs)}, ${renewals}`,
    );
  }

  /** One sighting of the leader Endpoints: its record, or null when the object is gone. */
  observe(wallMs: number, record: LeaderRecord | null): void {
    this.tick(wallMs);
    const key = JSON.stringify(record);
    if (this.seen && key === this.record) return;
    const first = !this.seen;
    this.seen = true;
    this.record = key;
    const leader = record?.leader ?? null;
    const transitions = record?.transitions ? `, transitions ${record.transitions}` : "";
    if (leader !== this.holder || (leader !== null && record?.acquireTime !== this.acquireTime)) {
      if (first && leader !== null) {
        this.emit(
          wallMs,
          leader,
          `leader lock held by ${leader} (acquired ${record?.acquireTime}${transitions})`,
        );
      } else if (leader === null) {
        // Patroni deletes the leader annotation when it steps down cleanly (delete_leader).
        this.endTenure(wallMs, (holder) => `${holder} released the leader lock`);
      } else {
        this.endTenure(wallMs, (holder) =>
          leader === holder
            ? `${holder} took the leader lock anew`
            : `${holder} lost the leader lock to ${leader}`,
        );
        this.emit(wallMs, leader, `leader lock acquired by ${leader}${transitions}`);
      }
      this.holder = leader;
      this.acquireTime = record?.acquireTime ?? null;
      // From this sighting: the renewals counted are those seen since (acquireTime is in the first event).
      this.tenureMs = wallMs;
      this.renewalsInTenure = 0;
    } else if (leader !== null) {
      this.renewalsInTenure++;
      this.renewalsTotal++;
      if (this.lapsed) {
        const expired = this.expired ? ", though it had expired" : "";
        this.emit(
          wallMs,
          leader,
          `leader lock renewed again by ${leader} after ${seconds(wallMs - this.changedMs)}${expired}`,
        );
      }
    }
    this.changedMs = wallMs;
    this.lapsed = false;
    this.expired = false;
  }

  /** The passing of time: a lapse or an expiry is an event at the moment it happened, not when noticed. */
  tick(wallMs: number): void {
    if (this.holder === null) return;
    const since = wallMs - this.changedMs;
    if (!this.lapsed && since > this.lapseMs()) {
      this.lapsed = true;
      this.emit(
        this.changedMs + this.lapseMs(),
        this.holder,
        `leader lock not renewed by ${this.holder} for ${seconds(this.lapseMs())} (2 × loop_wait ${this.loopWaitS} s)`,
      );
    }
    const ttlMs = this.ttlMs(JSON.parse(this.record ?? "null") as LeaderRecord | null);
    if (!this.expired && since > ttlMs) {
      this.expired = true;
      this.emit(
        this.changedMs + ttlMs,
        this.holder,
        `leader lock of ${this.holder} expired: unchanged for ttl ${ttlMs / 1000} s, free for another member to take`,
      );
    }
  }

  /** Renewals seen since the first sighting, every holder's. */
  renewals(): number {
    return this.renewalsTotal;
  }

  /** Events so far, and at `endMs` a closing line with the holder's count. */
  events(endMs: number | null = null): LockEvent[] {
    if (endMs === null || this.holder === null) return [...this.out];
    return [
      ...this.out,
      {
        wallMs: endMs,
        member: this.holder,
        text: `leader lock held by ${this.holder} at the end: ${this.renewalsInTenure} renewals seen in its last ${seconds(endMs - this.tenureMs)}; ${this.renewalsTotal} in all`,
      },
    ];
  }
}
