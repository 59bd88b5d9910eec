import { readdirSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { haRulesOf } from "../topology/index.ts";
import { verify } from "../verify/index.ts";
import { nameServiceFigures } from "../verify/name-service.ts";
import { NO_READ_FIGURES } from "../verify/test-helpers.ts";
import { jsonReporter, toResultJson } from "./json.ts";
import { type StoredResult, fromResultJson, loadRunReport, parseResultJson } from "./load.ts";
import { fixtureReport } from "./test-fixture.ts";

const FIXTURES = fileURLToPath(new URL("../../fixtures/results", import.meta.url));

describe("fromResultJson", () => {
  it("reads back what toResultJson wrote", () => {
    const report = fixtureReport();
    report.scenarioSource = "name: kill-primary\n";
    report.scenarioDescription = "Hard crash.";
    const back = fromResultJson(toResultJson(report), report.record.history);
    // Per-group figures are not in result.json.
    expect(back.verification.figures).toEqual(report.verification.figures);
    expect(back.verification.rto_per_fault).toEqual(report.verification.rto_per_fault);
    expect(back.verification.outages).toEqual(report.verification.outages);
    expect(back.verification.split_brain).toEqual(report.verification.split_brain);
    expect(back.verification.promotions).toEqual(report.verification.promotions);
    expect(back.verification.unknown_found_ids).toEqual(report.verification.unknown_found_ids);
    expect(back.record.timeline).toEqual(report.record.timeline);
    expect(back.record.members).toEqual(report.record.members);
    expect(back.scenarioSource).toBe("name: kill-primary\n");
    expect(back.scenarioDescription).toBe("Hard crash.");
  });

  it("derives the parts an older result.json lacks from the history", () => {
    const report = fixtureReport();
    const {
      rto_per_fault: _r,
      unknown_found_ids: _u,
      outages: _o,
      split_brain_intervals: _s,
      ...older
    } = toResultJson(report);
    const back = fromResultJson(older, report.record.history);
    expect(back.verification.rto_per_fault.map((r) => [r.fault, r.at_ns])).toEqual([["kill", 3e9]]);
    expect(back.verification.unknown_found_ids).toEqual([]);
    expect(back.verification.outages.map((o) => [o.group, o.fault, o.at_ns])).toEqual([
      ["direct", "kill", 3e9],
    ]);
    // Derived as verify derives them (the synthetic fixture samples etcd's leader as primary).
    const derived = verify(back.record, haRulesOf(back.record.topology));
    expect(back.verification.outages).toEqual(derived.outages);
    expect(back.verification.split_brain.intervals).toEqual(derived.split_brain.intervals);
  });
});

describe("fromResultJson before phases and bounds", () => {
  it("derives them from the stored settings and timeline as verify would", async () => {
    const report = await loadRunReport(join(FIXTURES, "kill-primary-pg_auto_failover-88f79d"));
    expect(report.verification.rto_bound?.bound_s).toBe(12);
    const [fault] = report.verification.rto_per_fault;
    expect(fault?.phases?.detection_s).toBeCloseTo(3.161718174, 9);
    expect(fault?.phases?.election_s).toBeCloseTo(7.007723144, 9);
    expect(fault?.phases?.reconnection_s).toBeCloseTo(0.035817842, 9);
  });

  it("keeps what a newer file stored, a null bound included", () => {
    const report = fixtureReport();
    const stored = toResultJson(report);
    const back = fromResultJson({ ...stored, rto_bound: null }, report.record.history);
    expect(back.verification.rto_bound).toBeNull();
    expect(back.verification.rto_per_fault[0]?.phases).toEqual(report.verification.rto_per_fault[0]?.phases);
    // The synthetic fixture's settings have no patroni_dcs: without a stored bound there is none to derive.
    const { rto_bound: _b, ...older } = stored;
    expect(fromResultJson(older, report.record.history).verification.rto_bound).toBeNull();
  });
});

describe("older result files", () => {
  /** The fixture as a pre-v0.5 file: no reasons, no WAL-loss detail, promotions without provenance. */
  function older(): StoredResult {
    const {
      unknown: _u,
      wal_loss: _w,
      divergence: _d,
      explanation: _e,
      paths: _p,
      ...stored
    } = toResultJson(fixtureReport());
    const { diverged: _dv, ...figures } = stored.figures;
    const promotions = stored.promotions.map(
      ({ parent: _pa, fork_source: _fs, ha_fork_lsn: _h, unrecorded: _un, ...p }) => p,
    );
    return { ...stored, figures, promotions };
  }

  it("does not show as zero a WAL loss an older pgchaos summed over a promotion without a fork LSN", () => {
    const stored = older();
    stored.figures.wal_loss_bytes = 0;
    stored.promotions = (stored.promotions ?? []).map((p) => ({
      ...p,
      fork_lsn: null,
      source: "role samples",
    }));
    const { verification: v } = fromResultJson(stored, fixtureReport().record.history);
    expect(v.figures.wal_loss_bytes).toBeNull();
    expect(v.unknown.wal_loss_bytes).toMatch(/^the promotion of n2 to timeline 2 has no fork LSN/);
    expect(v.promotions[0]).toMatchObject({ parent: 1, fork_source: null, ha_fork_lsn: null });
    expect(v.promotions[0]?.unrecorded).toMatch(/predates/);
  });

  it("keeps a measured WAL loss and gives the reasons verify would for figures derived as null", () => {
    const { verification: v } = fromResultJson(older(), fixtureReport().record.history);
    expect(v.figures.wal_loss_bytes).toBe(368);
    expect(v.unknown.wal_loss_bytes).toBeUndefined();
    expect(v.unknown.stale_reads).toBe("no readers in this run");
    expect(v.promotions[0]).toMatchObject({ parent: 1, fork_source: "ha manager", unrecorded: null });
  });
});

describe("parseResultJson", () => {
  it("names what is missing", () => {
    expect(() => parseResultJson(`{"run_id":"x"}`, "r.json")).toThrow(/^r.json: missing scenario, topology/);
    expect(() => parseResultJson("[]", "r.json")).toThrow("r.json: not a JSON object");
  });
});

describe("loadRunReport", () => {
  it("loads every recorded result under fixtures/results with the figures it holds", async () => {
    const dirs = readdirSync(FIXTURES);
    expect(dirs.length).toBeGreaterThanOrEqual(3);
    for (const name of dirs) {
      const dir = join(FIXTURES, name);
      const result = JSON.parse(await readFile(join(dir, "result.json"), "utf8"));
      const report = await loadRunReport(dir);
      // Files written before readers and names: their figures are derived (no reads, no name to lag).
      expect(report.verification.figures).toEqual({
        ...NO_READ_FIGURES,
        ...nameServiceFigures(null),
        dual_primary_s: report.verification.dual_primary.seconds,
        ...result.figures,
        // Written before the final state was read on every writable node.
        diverged: false,
        groups: result.figures.groups ?? {},
      });
      // Their promotions carry where the fork point came from: the HA manager's record.
      for (const p of report.verification.promotions) {
        expect(p.parent).toBe(p.timeline - 1);
        expect(p.fork_source).toBe(p.fork_lsn === null ? null : "ha manager");
        expect(p.ha_fork_lsn).toBe(p.fork_lsn);
      }
      expect(report.record.history.length).toBe(
        result.figures.acknowledged_writes + result.figures.failed_writes + result.figures.unknown_writes,
      );
      // RTO recomputed per fault agrees with the recorded worst figure.
      const worst = Math.max(...report.verification.rto_per_fault.map((r) => r.rto_s ?? Number.NaN));
      expect(worst).toBeCloseTo(result.figures.rto_s, 6);
      // So do the outage windows derived for files written before they were stored.
      const longest = Math.max(
        ...report.verification.outages.map((o) => ((o.end_ns ?? Number.NaN) - o.start_ns) / 1e9),
      );
      expect(longest).toBeCloseTo(result.figures.rto_s, 6);
      expect(report.verification.split_brain.intervals.length > 0).toBe(result.figures.split_brain);
    }
  });

  it("round-trips through the json reporter", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pgchaos-load-"));
    try {
      const report = fixtureReport();
      await jsonReporter.write(report, dir);
      const back = await loadRunReport(dir);
      expect(toResultJson(back)).toEqual(JSON.parse(JSON.stringify(toResultJson(report))));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
