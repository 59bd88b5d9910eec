import { describe, expect, it } from "vitest";
import {
  type ResultJson,
  type ScenarioRun,
  harnessProblems,
  historyOf,
  leftovers,
  resultOf,
  runScenarioFile,
  writeReportTable,
} from "../helpers.ts";

/**
 * Patroni on a real kube-apiserver (built by scripts/build-kube-apiserver.sh, run in the `k8s`
 * member with its own etcd, RBAC and per-run certificates), its DCS the Kubernetes API as Crunchy
 * PGO configures it; every figure below is read from the API server's objects or the cluster itself.
 */

interface K8sResult extends ResultJson {
  rto_bound: { bound_s: number; formula: string } | null;
  rto_per_fault: { phases: { until_promotion_s: number | null } | null }[];
  settings: { patroni_dcs: { ttl: number; loop_wait: number }; dcs?: string };
}

const lockEvents = (result: ResultJson) =>
  result.timeline.filter(
    (e) => e.kind === "ha" && e.source === result.topology && /leader lock/.test(e.text ?? ""),
  );

const rows: string[] = [];
const row = (scenario: string, result: ResultJson) => {
  const f = result.figures;
  rows.push(
    `| ${scenario} | ${result.topology} | ${result.verdict} | ${f.rto_s ?? "—"} | ${f.promotions} | ${f.lost_writes} | ${f.failed_writes} | ${lockEvents(result).length} |`,
  );
};

describe("kill-primary on patroni-k8s (sync replication)", () => {
  const run = runScenarioFile("kill-primary.yaml", ["--topology", "patroni-k8s"]);
  const result = () => resultOf(run, "patroni-k8s") as K8sResult;

  it("passes with no problem, on the real components", () => {
    expect(result().problems).toEqual([]);
    expect(result().verdict).toBe("pass");
    expect(result().versions["kube-apiserver"]).toBe("v1.37.2");
    expect(result().versions.etcd).toMatch(/3\.4\./);
    expect(result().versions.patroni).toMatch(/3\.0\.2/);
    expect(result().settings.dcs).toBe("kubernetes");
    row("kill-primary", result());
  });

  it("has exactly one promotion, read from the config Endpoints' history annotation", () => {
    expect(result().figures.promotions).toBe(1);
    expect(result().promotions).toHaveLength(1);
    expect(result().promotions[0]?.source).toBe("patroni-k8s history");
    expect(result().promotions[0]?.timeline).toBe(2);
    expect(result().figures.split_brain).toBe(false);
  });

  it("loses no acknowledged write", () => {
    expect(result().figures.lost_writes).toBe(0);
    expect(result().figures.wal_loss_bytes).toBe(0);
    expect(result().figures.acknowledged_writes as number).toBeGreaterThan(100);
  });

  it("promotes within the bound ttl + loop_wait, and no sooner than the lock can expire", () => {
    const { ttl, loop_wait } = result().settings.patroni_dcs;
    expect(result().rto_bound?.bound_s).toBe(ttl + loop_wait);
    const promotion = result().rto_per_fault[0]?.phases?.until_promotion_s as number;
    expect(promotion).toBeLessThanOrEqual(ttl + loop_wait);
    // The lock was last renewed at most one HA cycle (loop_wait, plus the cycle itself) before the kill.
    expect(promotion).toBeGreaterThan(ttl - loop_wait - 1);
    expect(result().figures.rto_s as number).toBeGreaterThan(ttl - loop_wait - 1);
  });

  it("puts the leader lock's expiry and handover on the timeline, not every renewal", () => {
    const killed = result().timeline.find((e) => e.kind === "fault" && e.phase === "inject")?.members?.[0];
    const promoted = result().promotions[0]?.member;
    const texts = lockEvents(result()).map((e) => e.text);
    expect(texts).toContain(
      `leader lock of ${killed} expired: unchanged for ttl 10 s, free for another member to take`,
    );
    expect(texts.some((t) => t?.startsWith(`${killed} lost the leader lock to ${promoted}: held`))).toBe(
      true,
    );
    expect(texts).toContain(`leader lock acquired by ${promoted}, transitions 1`);
    const end = texts.at(-1) ?? "";
    expect(end).toMatch(new RegExp(`^leader lock held by ${promoted} at the end: \\d+ renewals`));
    // Renewals every loop_wait (2 s) over a ~45 s run are counted, not listed.
    const renewals = Number(/; (\d+) in all$/.exec(end)?.[1]);
    expect(renewals).toBeGreaterThan(5);
    expect(texts.length).toBeLessThan(renewals);
  });

  it("leaves nothing behind: API server, its etcd data, certificates, namespaces", () => {
    for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
  });
});

describe("switchover on patroni-k8s: the failover annotation, as patronictl writes it without the REST API", () => {
  const run = runScenarioFile("switchover.yaml", ["--topology", "patroni-k8s"]);

  it("hands the lock over: one promotion to a new timeline, nothing lost, every node following", () => {
    const result = resultOf(run, "patroni-k8s");
    expect(result.problems).toEqual([]);
    expect(result.verdict).toBe("pass");
    expect(result.figures.promotions).toBe(1);
    expect(result.promotions[0]?.timeline).toBe(2);
    expect(result.figures.lost_writes).toBe(0);
    expect(result.final.nodes.map((node) => node.timeline)).toEqual([2, 2, 2]);
    const old = result.timeline.find((e) => e.kind === "fault" && e.phase === "inject")?.members?.[0];
    const promoted = result.promotions[0]?.member;
    expect(promoted).not.toBe(old);
    // A planned handover: the old leader deletes its annotation (no expiry), the new one takes the lock.
    const texts = lockEvents(result).map((e) => e.text ?? "");
    expect(texts.some((t) => t.startsWith(`${old} released the leader lock`))).toBe(true);
    expect(texts).toContain(`leader lock acquired by ${promoted}, transitions 1`);
    expect(texts.some((t) => /expired/.test(t))).toBe(false);
    row("switchover", result);
  });

  it("leaves nothing behind", () => {
    for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
  });
});

/** What a DCS loss did: what the scenario checks, and whether anyone but the first primary took writes. */
function outcome(run: ScenarioRun, topology: string) {
  const result = resultOf(run, topology);
  const acknowledgedBy = new Set(
    historyOf(run, topology)
      .filter((op) => op.outcome === "ok")
      .map((op) => op.node),
  );
  return {
    verdict: result.verdict,
    failedExpectations: result.expectations.filter((e) => !e.pass).map((e) => e.key),
    writesStopped: (result.figures.failed_writes as number) > 0,
    primaries: acknowledgedBy.size,
    lost: result.figures.lost_writes,
    splitBrain: result.figures.split_brain,
  };
}

describe("dcs-loss on etcd and on the Kubernetes API, failsafe_mode off and on, killed and stopped", () => {
  const both = ["--topology", "patroni", "--topology", "patroni-k8s"];
  const off = runScenarioFile("dcs-loss.yaml", both);
  const on = runScenarioFile("dcs-loss-failsafe.yaml", both);
  const stopped = runScenarioFile("test/scenarios/dcs-stop.yaml", both);

  it("runs every fault on both DCSs, the API server and its etcd killed together", () => {
    for (const run of [off, on]) {
      for (const topology of ["patroni", "patroni-k8s"])
        expect(harnessProblems(resultOf(run, topology))).toEqual([]);
      const kill = resultOf(run, "patroni-k8s").timeline.find(
        (e) => e.kind === "fault" && e.phase === "inject",
      );
      expect(kill?.members).toEqual(["k8s"]);
    }
  });

  it("failsafe off: the primary demotes, writes stop, nobody else is promoted — on both", () => {
    const [etcd, k8s] = [outcome(off, "patroni"), outcome(off, "patroni-k8s")];
    expect(k8s).toEqual(etcd);
    expect(k8s).toEqual({
      verdict: "pass",
      failedExpectations: [],
      writesStopped: true,
      primaries: 1,
      lost: 0,
      splitBrain: false,
    });
    const texts = lockEvents(resultOf(off, "patroni-k8s")).map((e) => e.text ?? "");
    expect(texts.some((t) => /expired: unchanged for ttl/.test(t))).toBe(true);
    for (const topology of ["patroni", "patroni-k8s"]) row("dcs-loss", resultOf(off, topology));
  });

  it("failsafe on: the primary keeps running through the outage, no write fails — on both", () => {
    const [etcd, k8s] = [outcome(on, "patroni"), outcome(on, "patroni-k8s")];
    expect(k8s).toEqual(etcd);
    expect(k8s).toEqual({
      verdict: "pass",
      failedExpectations: [],
      writesStopped: false,
      primaries: 1,
      lost: 0,
      splitBrain: false,
    });
    // The same holder renews its lock once the API server is back.
    const result = resultOf(on, "patroni-k8s");
    const primary = result.final.primary;
    const texts = lockEvents(result).map((e) => e.text ?? "");
    expect(texts.some((t) => t.startsWith(`leader lock renewed again by ${primary} after`))).toBe(true);
    for (const topology of ["patroni", "patroni-k8s"]) row("dcs-loss-failsafe", resultOf(on, topology));
  });

  it("a clean stop of the DCS (the API server first, then its etcd) ends as the kill does, on both", () => {
    for (const topology of ["patroni", "patroni-k8s"]) {
      const result = resultOf(stopped, topology);
      expect(harnessProblems(result)).toEqual([]);
      expect(outcome(stopped, topology)).toEqual(outcome(off, topology));
      // The stop itself is prompt: the heal comes 15 s (the fault's duration) after the stop ended.
      const faults = result.timeline.filter((e) => e.kind === "fault") as unknown as { at_ns: number }[];
      const [inject, heal] = faults.map((e) => e.at_ns);
      expect(((heal as number) - (inject as number)) / 1e9 - 15).toBeLessThan(10);
      row("dcs-stop", result);
    }
  });

  it("leaves nothing behind", () => {
    for (const runId of [...off.runIds, ...on.runIds, ...stopped.runIds])
      expect(leftovers(runId)).toEqual([]);
    writeReportTable(
      "patroni-k8s.md",
      ["scenario", "topology", "verdict", "RTO s", "promotions", "lost", "failed writes", "lock events"],
      rows,
    );
  });
});
