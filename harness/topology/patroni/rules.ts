/** Patroni's pure rules (patroni and patroni-k8s: the same Patroni, whatever its DCS), applied by verify. */

import type { RtoBound } from "../../model/figures.ts";
import { type HaRules, atLeast, bound, read, section, versionOf } from "../../verify/bound.ts";

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
): RtoBound | null {
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

/**
 * What Patroni records (the `ha` events of its log, patroni-client.ts haEvents()) when it reacts
 * to a failed primary: the leader race a replica starts once the leader key has expired — asking
 * the other members for their state (patroni-log.ts keeps those lines since the phases), then
 * taking the lock or following a healthier node (ha.py process_unhealthy_cluster). Older records
 * hold only "promoted self to leader", so detection there ends with the race, ~0.2 s late.
 */
const PATRONI_REACTIONS = [
  /^Request failed to \S+: GET /,
  /^Got response from /,
  /not the healthiest node/,
  /not allowed to promote/,
  /^promoted self to leader/,
  /^acquired session lock as a leader/,
  /after trying and failing to obtain lock/,
];

/** The same Patroni, whatever its DCS: the leader race is in its log either way (patroni-k8s too). */
export const patroniRules: HaRules = { bound: patroniBound, reactions: PATRONI_REACTIONS };
