/** pg_auto_failover's pure rules, applied by verify (see verify/bound.ts, verify/phases.ts). */

import type { RtoBound } from "../../model/figures.ts";
import { type HaRules, bound, read, section } from "../../verify/bound.ts";

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
function pgAutoFailoverBound(settings: Readonly<Record<string, unknown>>): RtoBound | null {
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

/**
 * The monitor's first failover goal (draining the primary, asking standbys for their LSN, or
 * preparing a promotion), set once it considers the primary unhealthy. Its earlier "marked as
 * unhealthy by the monitor" is a failed health check, not yet the unhealthy timeout.
 */
export const pgAutoFailoverRules: HaRules = {
  bound: (settings) => pgAutoFailoverBound(settings),
  reactions: [/→ (draining|report_lsn|prepare_promotion|stop_replication|demote_timeout):/],
};
