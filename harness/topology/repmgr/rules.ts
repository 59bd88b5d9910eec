/** repmgr's pure rules, applied by verify (see verify/bound.ts, verify/phases.ts). */

import type { RtoBound } from "../../model/figures.ts";
import { type HaRules, bound, read, section } from "../../verify/bound.ts";

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
function repmgrBound(settings: Readonly<Record<string, unknown>>): RtoBound | null {
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
 * repmgrd writes no event when it loses its primary (repmgrd-physical.c notifies scripts only), so
 * its failed reconnects are not on the timeline: detection and election are null and only
 * until_promotion_s splits its RTO. A lost upstream standby does get an event.
 */
export const repmgrRules: HaRules = {
  bound: (settings) => repmgrBound(settings),
  reactions: [/^repmgrd_upstream_disconnect:/],
};
