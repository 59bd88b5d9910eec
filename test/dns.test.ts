import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { TimelineEvent } from "../harness/model/timeline.ts";
import { type PathFigures, dnsRun } from "./dns-fixture.ts";
import { historyOf, leftovers, runDirOf, runScenarioFile } from "./helpers.ts";

/** kill-primary-dns's own settings: the poll interval and the record's TTL. */
const INTERVAL_S = 30;
const TTL_S = 5;
/** A writer retries at its cadence (20 ms) and each connect first resolves the name: slack, not a figure. */
const RECONNECT_SLACK_S = 2;

/**
 * An application that connects by a name a poller re-points (Data Services Manager's
 * `primary.<fqdn>`) beside one that routes by itself, on a real cluster: the name's outage is the
 * failover plus the wait for the next poll plus at most the TTL; the direct path's is the failover's.
 */
function checkKillPrimaryDns(topology: string) {
  describe(`kill-primary-dns: ${topology}`, () => {
    const run = runScenarioFile("kill-primary-dns.yaml", ["--topology", topology]);

    it("passes, with the name service a member of its own", () => {
      const { result } = dnsRun(run, topology);
      expect(result.problems).toEqual([]);
      expect(result.verdict).toBe("pass");
      expect(run.cli.code).toBe(0);
      expect(result.members).toContainEqual(expect.objectContaining({ name: "dns", kind: "entrypoint" }));
      expect(result.versions.dns).toMatch(/^dnsmasq \d/);
    });

    it("shows the promotion, then the name re-pointed at the promoted member, on the timeline", () => {
      const { result, repoints, names } = dnsRun(run, topology);
      const [promotion] = result.promotions;
      expect(result.promotions).toHaveLength(1);
      // The first record named the primary at start; the one after the fault names the promoted member.
      const moved = repoints.filter((e) => e.kind === "repoint" && e.from !== null);
      expect(moved).toHaveLength(1);
      const [repoint] = moved;
      if (repoint?.kind !== "repoint" || !promotion) throw new Error("no repointing after the promotion");
      expect(repoint.to).toBe(promotion.member);
      expect(repoint.at_ns).toBeGreaterThan(promotion.at_ns);
      expect(repoint.text).toMatch(/^Promote Replica: primary\.pgchaos\.internal → /);
      // It waits for the poll: never more than one interval (plus the poll's own work).
      expect(names.repoint_delay_s).toBeGreaterThan(0);
      expect(names.repoint_delay_s).toBeLessThan(INTERVAL_S + 5);
      expect(names.repointings).toEqual([
        {
          member: promotion.member,
          promoted_ns: promotion.at_ns,
          repointed_ns: repoint.at_ns,
          delay_s: names.repoint_delay_s,
        },
      ]);
    });

    it("gives the name's path an RTO of at least the repointing delay, ending within the TTL of it", () => {
      const { groups, names, repoints, dnsOutage } = dnsRun(run, topology);
      const dns = groups.dns as PathFigures;
      const direct = groups.direct as PathFigures;
      const delay = names.repoint_delay_s as number;
      expect(dns.rto_s).toBeGreaterThanOrEqual(delay);
      expect(dns.rto_s - delay).toBeLessThanOrEqual(INTERVAL_S + TTL_S + direct.rto_s);
      // Writes by name came back only once the record moved, and at most a TTL later (resolver cache).
      const repoint = repoints.at(-1) as TimelineEvent;
      const end = dnsOutage?.end_ns as number;
      expect(end).toBeGreaterThan(repoint.at_ns);
      expect((end - repoint.at_ns) / 1e9).toBeLessThanOrEqual(TTL_S + RECONNECT_SLACK_S);
      expect(dns.lost_writes).toBe(0);
    });

    it("leaves the direct path's RTO the failover's own, inside the HA settings' bound", () => {
      const { result, groups } = dnsRun(run, topology);
      const direct = groups.direct as PathFigures;
      const dns = groups.dns as PathFigures;
      expect(direct.rto_s).toBeLessThan(dns.rto_s);
      expect(result.rto_bound).not.toBeNull();
      expect(direct.rto_s).toBeLessThanOrEqual((result.rto_bound?.bound_s ?? 0) + RECONNECT_SLACK_S);
      // The run's RTO is the worst path's: the name's.
      expect(result.figures.rto_s).toBe(dns.rto_s);
    });

    it("names the real node behind the name: the old primary before the repointing, the new one after", () => {
      const { result, repoints } = dnsRun(run, topology);
      const repoint = repoints.at(-1) as TimelineEvent;
      const ops = historyOf(run, topology).filter((op) => op.group === "dns" && op.outcome === "ok");
      const [promotion] = result.promotions;
      const before = new Set(ops.filter((op) => op.invoke_ns < repoint.at_ns).map((op) => op.node));
      const after = new Set(ops.filter((op) => op.invoke_ns > repoint.at_ns).map((op) => op.node));
      expect(before.size).toBe(1);
      expect([...after]).toEqual([promotion?.member]);
      expect(before.has(promotion?.member ?? "")).toBe(false);
      // A killed primary acknowledges nothing: no write by name reached a former primary.
      expect(result.figures.stale_name_writes).toBe(0);
    });

    it("draws the repointing in the report and lists it among the events", () => {
      const html = readFileSync(join(runDirOf(run, topology), "report.html"), "utf8");
      expect(html).toContain('class="repoint-line"');
      expect(html).toContain("Re-pointing delay");
      expect(html).toContain("Promote Replica: primary.pgchaos.internal");
    });

    it("leaves nothing behind: the name server, its namespace, the resolver files", () => {
      for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
    });
  });
}

checkKillPrimaryDns("pg_auto_failover");
checkKillPrimaryDns("patroni");
