import { describe, expect, it } from "vitest";
import { type ResultJson, historyOf, leftovers, readsOf, resultOf, runScenarioFile } from "./helpers.ts";

interface FaultEvent {
  kind: string;
  fault?: string;
  phase?: string;
  members?: string[];
  at_ns?: number;
  requested_ns?: number;
  member?: string;
  role?: string;
  observer?: string;
  at_s?: number;
}

const faults = (result: ResultJson) => result.timeline as FaultEvent[];

describe("fault-tour: every process and network fault injects and heals on all three HA managers", () => {
  const run = runScenarioFile("fault-tour.yaml");
  const TOPOLOGIES = ["patroni", "pg_auto_failover", "repmgr"];

  for (const topology of TOPOLOGIES) {
    it(`${topology}: injects and heals each fault, loses nothing, and the cluster ends healthy`, () => {
      const result = resultOf(run, topology);
      expect(result.problems).toEqual([]);
      const events = faults(result).filter((e) => e.kind === "fault");
      for (const fault of ["stop", "crash-postgres", "freeze", "packet-loss", "partition", "kill"]) {
        expect(events.filter((e) => e.fault === fault).map((e) => e.phase)).toEqual(["inject", "heal"]);
      }
      expect(result.figures.lost_writes).toBe(0);
      expect(result.figures.promotions).toBe(0);
      expect(result.verdict).toBe("pass");
    });

    it(`${topology}: sees what each fault did to its replica`, () => {
      const result = resultOf(run, topology);
      const roles = faults(result).filter((e) => e.kind === "role");
      const seenAfter = (fault: string, role: string) => {
        const event = faults(result).find(
          (e) => e.kind === "fault" && e.fault === fault && e.phase === "inject",
        );
        const member = event?.members?.[0];
        return roles.some(
          (r) => r.member === member && r.role === role && (r.at_ns ?? 0) >= (event?.at_ns ?? 0) - 1e8,
        );
      };
      expect(seenAfter("stop", "down")).toBe(true);
      expect(seenAfter("crash-postgres", "down")).toBe(true);
      expect(seenAfter("freeze", "unreachable")).toBe(true);
      expect(seenAfter("kill", "down")).toBe(true);
    });
  }

  it("leaves nothing behind", () => {
    expect([...run.results.keys()].sort()).toEqual(TOPOLOGIES);
    for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
  });
});

describe("dcs-loss: Patroni's primary demotes when every etcd member is gone", () => {
  // Its patroni-k8s run, and the same with failsafe_mode, are test/k8s's.
  const run = runScenarioFile("dcs-loss.yaml", ["--topology", "patroni"]);

  it("kills every etcd member, writes stop while they are gone, and nobody is promoted", () => {
    const result = resultOf(run, "patroni");
    expect(result.problems).toEqual([]);
    const kill = faults(result).find((e) => e.kind === "fault" && e.fault === "kill" && e.phase === "inject");
    expect(kill?.members).toEqual(["e1", "e2", "e3"]);
    // Without a quorum the primary demotes: writes fail until etcd is back.
    expect(result.figures.failed_writes as number).toBeGreaterThan(0);
    // Once etcd is back the old leader may take the lock again (a new timeline), but nobody else may.
    const acknowledgedBy = new Set(
      historyOf(run, result.topology)
        .filter((op) => op.outcome === "ok")
        .map((op) => op.node),
    );
    expect(acknowledgedBy.size).toBe(1);
    for (const promotion of result.promotions) expect(acknowledgedBy.has(promotion.member)).toBe(true);
    expect(result.figures.lost_writes).toBe(0);
    expect(result.verdict).toBe("pass");
  });

  it("leaves nothing behind", () => {
    for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
  });
});

describe("async-data-loss and its synchronous twin", () => {
  const asyncRun = runScenarioFile("async-data-loss.yaml", ["--topology", "patroni"]);
  const syncRun = runScenarioFile("sync-data-loss.yaml", ["--topology", "patroni"]);

  it("async: reports the exact lost ids, each acknowledged by the old primary after the cut began", () => {
    const result = resultOf(asyncRun, "patroni");
    expect(result.verdict).toBe("pass");
    const cut = faults(result).find(
      (e) => e.kind === "fault" && e.fault === "partition" && e.phase === "inject",
    );
    const oldPrimary = cut?.members?.[0];
    const ops = new Map(historyOf(asyncRun, result.topology).map((op) => [op.id, op]));
    expect(result.lost_write_ids.length).toBeGreaterThan(50);
    expect(result.figures.lost_writes).toBe(result.lost_write_ids.length);
    for (const id of result.lost_write_ids) {
      const op = ops.get(id);
      expect(op?.outcome).toBe("ok");
      expect(op?.node).toBe(oldPrimary);
      expect(op?.timeline).toBe(1);
      expect(op?.complete_ns).toBeGreaterThanOrEqual(cut?.requested_ns ?? Number.POSITIVE_INFINITY);
    }
    expect(result.figures.wal_loss_bytes as number).toBeGreaterThan(0);
  });

  it("async: the reader beside the old primary saw ids that were then lost", () => {
    const result = resultOf(asyncRun, "patroni");
    const lost = new Set(result.lost_write_ids);
    const beside = result.reads.lost_data.filter((r) => r.group === "reader-beside-primary");
    expect(beside.length).toBeGreaterThan(0);
    for (const read of result.reads.lost_data) {
      expect(result.final.ids).not.toContain(read.id);
      if (read.write_outcome === "ok") expect(lost.has(read.id)).toBe(true);
    }
    const reads = new Set(result.reads.lost_data.map((r) => `${r.reader} ${r.invoke_ns}`));
    expect(result.figures.lost_data_reads).toBe(reads.size);
  });

  it("sync: the same cut and crash lose nothing — commits waited instead", () => {
    const result = resultOf(syncRun, "patroni");
    expect(result.figures.lost_writes).toBe(0);
    expect(result.figures.wal_loss_bytes).toBe(0);
    expect(result.verdict).toBe("pass");
  });

  it("leaves nothing behind", () => {
    for (const runId of [...asyncRun.runIds, ...syncRun.runIds]) expect(leftovers(runId)).toEqual([]);
  });
});

describe("rogue-promote: the negative control for split-brain", () => {
  const run = runScenarioFile("rogue-promote.yaml", ["--topology", "patroni"]);

  it("reports two primaries by role, and divergence from the rogue's acknowledgements", () => {
    const result = resultOf(run, "patroni");
    expect(result.figures.dual_primary_s).toBeGreaterThan(0);
    expect(result.dual_primary_evidence.length).toBeGreaterThan(0);
    expect(result.figures.split_brain).toBe(true);
    expect(result.split_brain_evidence.every((line) => line.startsWith("acknowledged:"))).toBe(true);
    expect(result.verdict).toBe("pass");
    expect(run.cli.code).toBe(0);
  });

  it("lists the reads of lost data and the stale reads, each one checkable against the history", () => {
    const result = resultOf(run, "patroni");
    const writes = new Map(historyOf(run, "patroni").map((op) => [op.id, op]));
    const reads = readsOf(run, "patroni");
    const rogue = faults(result).find((e) => e.kind === "fault" && e.fault === "promote")?.members?.[0];
    expect(result.reads.lost_data.length).toBeGreaterThan(0);
    for (const read of result.reads.lost_data) {
      expect(result.final.ids).not.toContain(read.id);
      expect(read.node).toBe(rogue);
      expect(writes.get(read.id)?.writer).toBe(read.writer);
    }
    expect(result.reads.stale.length).toBeGreaterThan(0);
    for (const stale of result.reads.stale) {
      const missed = writes.get(stale.missed_id);
      expect(missed?.outcome).toBe("ok");
      expect(missed?.complete_ns as number).toBeLessThan(stale.invoke_ns);
      const read = reads.find((r) => r.reader === stale.reader && r.invoke_ns === stale.invoke_ns);
      const head = read?.heads[stale.writer] ?? null;
      expect(head === null || head < stale.missed_id).toBe(true);
    }
  });
});

describe("isolate-primary on Patroni, with an application beside the primary", () => {
  const run = runScenarioFile("isolate-primary.yaml", ["--topology", "patroni"]);

  it("the observer inside the isolated member sees its demotion, which the outside cannot", () => {
    const result = resultOf(run, "patroni");
    const isolate = faults(result).find(
      (e) => e.kind === "fault" && e.fault === "partition" && e.phase === "inject",
    );
    const member = isolate?.members?.[0];
    const heal = faults(result).find(
      (e) => e.kind === "fault" && e.fault === "partition" && e.phase === "heal",
    );
    const during = (observer: string) =>
      faults(result).filter(
        (e) =>
          e.kind === "role" &&
          e.member === member &&
          e.observer === observer &&
          (e.at_ns ?? 0) > (isolate?.at_ns ?? 0) &&
          (e.at_ns ?? 0) < (heal?.at_ns ?? 0),
      );
    expect(during("outside").map((e) => e.role)).toContain("unreachable");
    // Patroni stops PostgreSQL on a leader that lost the DCS ("Demoting self (offline)").
    expect(during("inside").map((e) => e.role)).toContain("down");
  });

  it("reports the placed writers as their own group, and Patroni loses nothing", () => {
    const result = resultOf(run, "patroni");
    const groups = result.figures.groups as unknown as Record<
      string,
      { acknowledged_writes: number; lost_writes: number }
    >;
    expect(groups["app-beside-primary"]?.acknowledged_writes).toBeGreaterThan(10);
    expect(groups["app-beside-primary"]?.lost_writes).toBe(0);
    expect(result.figures.lost_writes).toBe(0);
    expect(result.figures.split_brain).toBe(false);
  });

  it("leaves nothing behind", () => {
    for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
  });
});
