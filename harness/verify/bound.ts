import type { RtoBound, RtoBoundPart, RtoPhaseName } from "../model/figures.ts";
import { type TopologyName, isTopologyName } from "../model/scenario.ts";

/**
 * The RTO a run's HA settings imply: the time the HA manager's own timers allow between a
 * primary failure and the promotion of its successor. It leaves out what no HA setting governs:
 * PostgreSQL's promotion itself and the clients' way back (reconnection, a synchronous standby
 * re-attaching); the RTO phases (phases.ts) show those beside it.
 */

/** A setting's value as an HA manager reads it (numbers, or numeric strings from YAML); null when not one. */
function numeric(value: unknown): number | null {
  const n = typeof value === "number" ? value : typeof value === "string" ? Number(value.trim()) : Number.NaN;
  return Number.isFinite(n) && n >= 0 ? n : null;
}

function section(settings: Readonly<Record<string, unknown>>, key: string): Record<string, unknown> | null {
  const value = settings[key];
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

/** Each key's value, its default when unset, or null when one is set to something that is not a number. */
function read<K extends string>(
  values: Record<string, unknown>,
  defaults: Readonly<Record<K, number>>,
): Record<K, number> | null {
  const out = {} as Record<K, number>;
  for (const key of Object.keys(defaults) as K[]) {
    const n = values[key] === undefined ? defaults[key] : numeric(values[key]);
    if (n === null) return null;
    out[key] = n;
  }
  return out;
}

/** Rounded to the millisecond: settings in ms (pg_auto_failover) must not show float noise. */
function sum(parts: readonly RtoBoundPart[]): number {
  return Math.round(parts.reduce((total, part) => total + part.s, 0) * 1000) / 1000;
}

function bound(parts: RtoBoundPart[], formula: string, note: string | null = null): RtoBound {
  const share = (phase: RtoPhaseName) => sum(parts.filter((part) => part.phase === phase));
  return {
    bound_s: sum(parts),
    parts,
    share_s: {
      detection: share("detection"),
      election: share("election"),
      reconnection: share("reconnection"),
    },
    formula,
    note,
  };
}

/** "patroni 3.0.2" → [3, 0, 2]; null when the text holds no version. */
function versionOf(text: string | undefined): number[] | null {
  const match = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text ?? "");
  return match ? [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)] : null;
}

function atLeast(version: number[], minimum: number[]): boolean {
  for (let i = 0; i < minimum.length; i++) {
    const [a, b] = [version[i] ?? 0, minimum[i] ?? 0];
    if (a !== b) return a > b;
  }
  return true;
}

/** patroni/config.py __DEFAULT_CONFIG. */
const PATRONI_DEFAULTS = { ttl: 30, loop_wait: 10, retry_timeout: 10 };

/**
 * Patroni ≥ 3.2.0 raises ttl to 20, loop_wait to 1 and retry_timeout to 3, then lowers loop_wait
 * (or retry_timeout) until loop_wait + 2 × retry_timeout ≤ ttl, with a warning in its log
 * (config.py _validate_and_adjust_timeouts). Older versions use what they are given.
 */
function patroniInForce(
  given: { ttl: number; loop_wait: number; retry_timeout: number },
  version: number[] | null,
): { ttl: number; loop_wait: number; retry_timeout: number } {
  if (version === null || !atLeast(version, [3, 2, 0])) return given;
  const ttl = Math.max(Math.trunc(given.ttl), 20);
  let loopWait = Math.max(Math.trunc(given.loop_wait), 1);
  let retryTimeout = Math.max(Math.trunc(given.retry_timeout), 3);
  if (1 + 2 * retryTimeout > ttl) {
    loopWait = 1;
    retryTimeout = Math.floor((ttl - 1) / 2);
  } else if (loopWait + 2 * retryTimeout > ttl) {
    loopWait = ttl - 2 * retryTimeout;
  }
  return { ttl, loop_wait: loopWait, retry_timeout: retryTimeout };
}

/**
 * ttl + loop_wait. The leader refreshes its key every loop_wait; once the key expires (≤ ttl after
 * the last refresh), a replica starts the leader race on its next cycle (≤ loop_wait; sooner on
 * etcd3, which Patroni watches). Patroni's release notes name the same figure ("failure detection
 * time ... ttl + loop_wait", 3.2.0). Approximate: the race itself asks every member for its state
 * (2 s timeout each, ha.py fetch_node_status), which a member that does not answer adds to.
 * retry_timeout governs the old primary demoting itself, not the promotion, so it is no part.
 * Recorded: kill-primary 88ffe8 and 291f59 (ttl 10, loop_wait 2, Patroni 3.0.2): promotion 9.3 s
 * after the kill, RTO 9.3–9.4 s, within the 12 s bound.
 * The same on the Kubernetes API (patroni-k8s): no TTL lives in the API server, each member counts
 * the lock expired ttl after it last saw the leader record change (kubernetes.py
 * _leader_observed_time) and acts on its next cycle. Recorded: kill-primary 47d097, promotion 8.8 s
 * after the kill (the lock last renewed 1.9 s before it), within the same 12 s.
 */
function patroniBound(
  settings: Readonly<Record<string, unknown>>,
  versions: Readonly<Record<string, string>>,
) {
  const dcs = section(settings, "patroni_dcs");
  const given = dcs && read(dcs, PATRONI_DEFAULTS);
  if (!given) return null;
  const inForce = patroniInForce(given, versionOf(versions.patroni));
  const changed = (Object.keys(given) as (keyof typeof given)[]).filter((key) => given[key] !== inForce[key]);
  const note =
    changed.length === 0
      ? null
      : `Patroni ${versions.patroni?.replace(/^patroni\s*/, "")} adjusted ${changed.map((key) => `${key} ${given[key]} → ${inForce[key]}`).join(", ")}`;
  return bound(
    [
      { name: "ttl", s: inForce.ttl, phase: "detection" },
      { name: "loop_wait", s: inForce.loop_wait, phase: "detection" },
    ],
    "ttl + loop_wait",
    note,
  );
}

/** pgautofailover.* GUC defaults in ms (src/monitor/pg_auto_failover.c, 2.0). */
const PG_AUTO_FAILOVER_DEFAULTS = {
  node_considered_unhealthy_timeout: 20_000,
  primary_demote_timeout: 30_000,
};

/** PG_AUTOCTL_KEEPER_SLEEP_TIME (src/bin/pg_autoctl/defaults.h): a keeper reports to the monitor once a second. */
const KEEPER_ROUND_S = 1;

/**
 * node_considered_unhealthy_timeout + primary_demote_timeout + 4 keeper rounds. The monitor
 * considers the primary unhealthy once its keeper has not reported for the unhealthy timeout and a
 * health check failed (node_metadata.c IsUnhealthy), and acts on the next report it receives; it
 * then waits one round for the standbys' LSNs (report_lsn), one for prepare_promotion, gives the
 * unreachable primary primary_demote_timeout to demote (IsDrainTimeExpired, from its demote_timeout
 * goal) and notices the expiry on the next report. The keeper rounds are not settings but the
 * fixed keeper loop; without them the recorded kill-primary 88f79d (3 s + 5 s = 8 s) promoted at
 * 10.17 s, over the bound: 0.16 s after the unhealthy timeout, 1.09 s collecting LSNs and
 * preparing, 0.92 s after the demote timeout. Approximate: it assumes the health check fails
 * within the unhealthy timeout, true for a refused connection; an unreachable node needs up to
 * health_check_period + (health_check_max_retries + 1) × health_check_timeout + retries ×
 * health_check_retry_delay (24 s with the defaults, more than their 20 s unhealthy timeout).
 */
function pgAutoFailoverBound(settings: Readonly<Record<string, unknown>>) {
  const monitor = section(settings, "pg_auto_failover");
  const ms = monitor && read(monitor, PG_AUTO_FAILOVER_DEFAULTS);
  if (!ms) return null;
  return bound(
    [
      {
        name: "node_considered_unhealthy_timeout",
        s: ms.node_considered_unhealthy_timeout / 1000,
        phase: "detection",
      },
      { name: "keeper round: the monitor acts on the next report", s: KEEPER_ROUND_S, phase: "detection" },
      { name: "keeper rounds: LSN reports, prepare_promotion", s: 2 * KEEPER_ROUND_S, phase: "election" },
      { name: "primary_demote_timeout", s: ms.primary_demote_timeout / 1000, phase: "election" },
      { name: "keeper round: the expiry is seen on the next report", s: KEEPER_ROUND_S, phase: "election" },
    ],
    "node_considered_unhealthy_timeout + primary_demote_timeout + 4 keeper rounds (1 s)",
  );
}

/** repmgr.conf defaults in seconds (repmgr.h, 5.3). promote_check_interval is not a setting pgchaos passes. */
const REPMGR_DEFAULTS = { monitor_interval_secs: 2, reconnect_attempts: 6, reconnect_interval: 10 };
const REPMGR_PROMOTE_CHECK_INTERVAL_S = 1;

/**
 * monitor_interval_secs + (reconnect_attempts − 1) × reconnect_interval + promote_check_interval.
 * repmgrd checks its upstream every monitor interval; on failure it tries reconnect_attempts
 * times, sleeping reconnect_interval between attempts but not after the last
 * (repmgrd-physical.c try_primary_reconnect), then elects and runs the promote command, whose
 * `repmgr standby promote` polls for the end of recovery every promote_check_interval (1 s), and
 * the first poll comes right after pg_promote. Not attempts × interval: the docs and the code
 * sleep only between attempts. Approximate: each attempt against a host that does not answer waits
 * connect_timeout (2 s in the conninfo pgchaos writes). Recorded: kill-primary bffa3b (1 s, 2 ×
 * 1 s): promotion 2.92 s after the kill, within the 3 s bound, but RTO 4.06 s: the new primary
 * acknowledged only once a synchronous standby had followed it (1.13 s reconnection).
 */
function repmgrBound(settings: Readonly<Record<string, unknown>>) {
  const conf = section(settings, "repmgr");
  const s = conf && read(conf, REPMGR_DEFAULTS);
  if (!s) return null;
  const attempts = Math.max(Math.trunc(s.reconnect_attempts), 1);
  return bound(
    [
      { name: "monitor_interval_secs", s: s.monitor_interval_secs, phase: "detection" },
      {
        name: `(reconnect_attempts − 1) × reconnect_interval`,
        s: (attempts - 1) * s.reconnect_interval,
        phase: "election",
      },
      { name: "promote_check_interval", s: REPMGR_PROMOTE_CHECK_INTERVAL_S, phase: "election" },
    ],
    "monitor_interval_secs + (reconnect_attempts − 1) × reconnect_interval + promote_check_interval",
  );
}

/**
 * The bound of a run from its topology, the settings it passed (RunRecord.settings, as each
 * topology's settings() reports them) and the versions it ran; null when it cannot be derived
 * (an unknown topology, no settings recorded, a setting that is not a number).
 */
export function expectedRtoBound(
  topology: string,
  settings: Readonly<Record<string, unknown>>,
  versions: Readonly<Record<string, string>> = {},
): RtoBound | null {
  return isTopologyName(topology) ? BOUNDS[topology](settings, versions) : null;
}

/**
 * Each HA manager's bound: a Record over every topology name, so a new HA manager without its
 * bound is a compile error, not a silent null.
 */
const BOUNDS: Record<
  TopologyName,
  (settings: Readonly<Record<string, unknown>>, versions: Readonly<Record<string, string>>) => RtoBound | null
> = {
  patroni: patroniBound,
  // The same Patroni, whatever its DCS (see patroniBound).
  "patroni-k8s": patroniBound,
  pg_auto_failover: (settings) => pgAutoFailoverBound(settings),
  repmgr: (settings) => repmgrBound(settings),
};
