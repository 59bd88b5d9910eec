import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { WITHOUT_K8S, leftovers, resultOf, runDirOf, runScenarioFile, topologyFlags } from "./helpers.ts";

// One invocation, three HA managers; the file's patroni-k8s run is test/k8s's (npm run test:k8s).
describe("kill-primary on real 3-node clusters (sync replication), Patroni, pg_auto_failover and repmgr in one run", () => {
  const run = runScenarioFile("kill-primary.yaml", topologyFlags(WITHOUT_K8S));

  it("exits 0 with every result present and printed side by side", () => {
    expect([...run.results.keys()].sort()).toEqual(["patroni", "pg_auto_failover", "repmgr"]);
    expect(run.cli.stdout).toMatch(/PASS +kill-primary +patroni +RTO \d+\.\d+s +lost 0/);
    expect(run.cli.stdout).toMatch(/PASS +kill-primary +pg_auto_failover +RTO \d+\.\d+s +lost 0/);
    expect(run.cli.stdout).toMatch(/PASS +kill-primary +repmgr +RTO \d+\.\d+s +lost 0/);
    expect(run.cli.stdout).toContain("3 passed, 0 failed");
    expect(run.cli.code).toBe(0);
  });

  for (const topology of ["patroni", "pg_auto_failover", "repmgr"]) {
    describe(topology, () => {
      it("passes every expectation with no problem", () => {
        const result = resultOf(run, topology);
        expect(result.expectations.filter((e) => !e.pass)).toEqual([]);
        expect(result.problems).toEqual([]);
        expect(result.verdict).toBe("pass");
      });

      it("measures a positive RTO below the expectation, bounded below by the HA manager's detection time", () => {
        const rto = resultOf(run, topology).figures.rto_s as number;
        expect(rto).toBeLessThan(30);
        // No manager can promote before it notices the death: Patroni's ttl is 10 s,
        // pg_auto_failover's unhealthy timeout 3 s plus its demote timeout 5 s, repmgr's 2 × 1 s reconnects.
        expect(rto).toBeGreaterThan({ patroni: 2, pg_auto_failover: 5, repmgr: 1 }[topology] as number);
      });

      it("loses no acknowledged write under synchronous replication", () => {
        const result = resultOf(run, topology);
        expect(result.figures.lost_writes).toBe(0);
        expect(result.lost_write_ids).toEqual([]);
        expect(result.figures.acknowledged_writes as number).toBeGreaterThan(100);
        expect(result.figures.wal_loss_bytes).toBe(0);
      });

      it("sees exactly one promotion, reported by the HA manager itself, and no split-brain", () => {
        const result = resultOf(run, topology);
        expect(result.figures.promotions).toBe(1);
        expect(result.promotions).toHaveLength(1);
        expect(result.promotions[0]?.source).toBe(`${topology} history`);
        expect(result.promotions[0]?.timeline).toBe(2);
        expect(result.figures.split_brain).toBe(false);
      });

      it("takes the fork point from PostgreSQL's timeline history, and the HA manager's own figure agrees", () => {
        const result = resultOf(run, topology);
        const [promotion] = result.promotions;
        expect(promotion?.fork_source).toBe("timeline history");
        expect(promotion?.fork_lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
        // Patroni's from its DCS history, pg_auto_failover's and repmgr's as their clients read them.
        expect(promotion?.ha_fork_lsn).toBe(promotion?.fork_lsn);
        // The sampler read it on the promoted node itself as soon as it was primary.
        const fork = result.timeline.find((e) => e.kind === "fork" && e.member === promotion?.member);
        expect(fork).toMatchObject({ timeline: 2, parent: 1, fork_lsn: promotion?.fork_lsn });
        expect(result.figures.diverged).toBe(false);
        expect(result.explanation).toBeNull();
      });

      it("puts the HA manager's own events on the timeline", () => {
        const events = resultOf(run, topology).timeline.filter(
          (e) => e.kind === "ha" && e.source === topology,
        );
        const promotedText = {
          patroni: /promoted self to leader/,
          pg_auto_failover: /wait_primary|prepare_promotion/,
          repmgr: /^standby_promote: /,
        }[topology] as RegExp;
        expect(events.some((e) => promotedText.test(e.text ?? ""))).toBe(true);
      });

      it("writes a report and the members' logs", () => {
        const dir = runDirOf(run, topology);
        expect(existsSync(join(dir, "report.html"))).toBe(true);
        expect(existsSync(join(dir, "logs", "n1.log"))).toBe(true);
      });
    });
  }

  it("records the versions of the real components", () => {
    expect(resultOf(run, "patroni").versions.patroni).toMatch(/3\.0/);
    expect(resultOf(run, "patroni").versions.etcd).toMatch(/3\.4/);
    expect(resultOf(run, "pg_auto_failover").versions.pg_auto_failover).toMatch(/2\.0/);
    expect(resultOf(run, "repmgr").versions.repmgr).toMatch(/5\.3/);
    expect(resultOf(run, "patroni").versions.postgresql).toMatch(/15\./);
  });

  it("leaves no namespace, link, process, state file or work directory behind", () => {
    expect(run.runIds).toHaveLength(3);
    for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
  });
});
