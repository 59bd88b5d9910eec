import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { historyJson, jsonReporter, toResultJson } from "./json.ts";
import { FIXTURE_SECRETS, fixtureReport } from "./test-fixture.ts";

const CONTRACT_KEYS = [
  "scenario",
  "topology",
  "backend",
  "verdict",
  "versions",
  "settings",
  "figures",
  "expectations",
  "timeline",
  "lost_write_ids",
  // The additions the contract allows.
  "stack",
  "entrypoints",
  "run_id",
  "started_at",
  "duration_s",
  "members",
  "promotions",
  "split_brain_evidence",
  "unknown_write_ids",
  "problems",
  "final",
  "rto_per_fault",
  "unknown_found_ids",
  "rto_bound",
  "outages",
  "split_brain_intervals",
  "scenario_description",
  "scenario_source",
  "seed",
  "plan",
  "concurrency",
  "harness",
  "dual_primary_evidence",
  "dual_primary_intervals",
  "reads",
  "transactions",
  "name_service",
  "unknown",
  "wal_loss",
  "divergence",
  "explanation",
  "paths",
];

const FIGURE_KEYS = [
  "rto_s",
  "max_write_gap_s",
  "lost_writes",
  "unknown_writes",
  "acknowledged_writes",
  "failed_writes",
  "wal_loss_bytes",
  "promotions",
  "split_brain",
  "split_brain_window_s",
  "diverged",
  "dual_primary_s",
  "reads",
  "stale_reads",
  "max_staleness_s",
  "lost_data_reads",
  "non_monotonic_reads",
  "replica_staleness_s",
  "replica_lag_bytes",
  "transactions",
  "txn_anomalies",
  "write_blocked_s",
  "old_primary_rejoin_s",
  "repoint_delay_s",
  "stale_name_writes",
  "stale_name_refused_writes",
  "groups",
];

describe("toResultJson", () => {
  it("has exactly the contract's top-level keys", () => {
    const result = toResultJson(fixtureReport());
    expect(Object.keys(result).sort()).toEqual([...CONTRACT_KEYS].sort());
  });

  it("carries the Verification's figures unchanged, with exactly the contract's figure keys", () => {
    const report = fixtureReport();
    const result = toResultJson(report);
    expect(result.figures).toEqual(report.verification.figures);
    expect(Object.keys(result.figures).sort()).toEqual([...FIGURE_KEYS].sort());
  });

  it("does not widen figures when Figures grows a field", () => {
    const report = fixtureReport();
    const figures = { ...report.verification.figures, extra: 1 };
    const result = toResultJson({ ...report, verification: { ...report.verification, figures } });
    expect(Object.keys(result.figures)).not.toContain("extra");
  });

  it("copies verdict, expectations and ids from the Verification", () => {
    const report = fixtureReport();
    const result = toResultJson(report);
    expect(result.verdict).toBe("fail");
    expect(result.expectations).toEqual(report.verification.expectations);
    for (const e of result.expectations)
      expect(Object.keys(e).sort()).toEqual(["actual", "expected", "key", "pass"]);
    expect(result.lost_write_ids).toEqual([24, 25]);
    expect(result.unknown_write_ids).toEqual([26]);
    expect(result.promotions).toEqual(report.verification.promotions);
  });

  it("adds at_s, in seconds with 3 decimals, right after at_ns on every timeline event", () => {
    const report = fixtureReport();
    const result = toResultJson(report);
    expect(result.timeline).toHaveLength(report.record.timeline.length);
    result.timeline.forEach((entry, i) => {
      const source = report.record.timeline[i];
      expect(entry).toEqual({ ...source, at_s: Math.round((source?.at_ns ?? 0) / 1e6) / 1000 });
      expect(Object.keys(entry).slice(0, 2)).toEqual(["at_ns", "at_s"]);
    });
    const promotion = result.timeline.find((e) => e.kind === "promotion");
    expect(promotion?.at_s).toBe(8.2);
  });

  it("carries the outages and split-brain intervals the report draws", () => {
    const report = fixtureReport();
    const interval = { start_ns: 9e9, end_ns: 9.5e9, members: ["n1", "n2"], source: "sampled" as const };
    report.verification.split_brain.intervals = [interval];
    const result = toResultJson(report);
    expect(result.outages).toEqual(report.verification.outages);
    expect(result.split_brain_intervals).toEqual([interval]);
  });

  it("carries the RTO bound and each fault's phases", () => {
    const report = fixtureReport();
    const result = toResultJson(report);
    expect(result.rto_bound).toEqual(report.verification.rto_bound);
    expect(result.rto_per_fault[0]?.phases).toEqual(report.verification.rto_per_fault[0]?.phases);
    report.verification.rto_bound = null;
    expect(toResultJson(report).rto_bound).toBeNull();
  });

  it("merges record and verify problems once each", () => {
    const report = fixtureReport();
    report.verification.problems = ["final primary unreadable", report.record.problems[0] ?? ""];
    expect(toResultJson(report).problems).toEqual([
      "replica n3 did not report its lag within 5 s after the heal",
      "final primary unreadable",
    ]);
  });

  it("masks passwords and secrets in settings", () => {
    const text = JSON.stringify(toResultJson(fixtureReport()));
    for (const secret of FIXTURE_SECRETS) expect(text).not.toContain(secret);
    expect(text).toContain('"ttl":30');
  });

  it("does not share arrays with the record", () => {
    const report = fixtureReport();
    const result = toResultJson(report);
    result.lost_write_ids.push(999);
    result.final.ids?.push(999);
    expect(report.verification.lost_write_ids).toEqual([24, 25]);
    expect(report.record.final.ids).not.toContain(999);
  });
});

describe("jsonReporter", () => {
  let dir = "";
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("writes result.json and the raw history as history.json", async () => {
    dir = await mkdtemp(join(tmpdir(), "pgchaos-json-"));
    const report = fixtureReport();
    const paths = await jsonReporter.write(report, join(dir, "nested"));
    expect(paths).toEqual([join(dir, "nested", "result.json"), join(dir, "nested", "history.json")]);
    const result = JSON.parse(await readFile(paths[0] ?? "", "utf8"));
    expect(result).toEqual(JSON.parse(JSON.stringify(toResultJson(report))));
    const history = JSON.parse(await readFile(paths[1] ?? "", "utf8"));
    expect(history).toEqual(report.record.history);
  });

  it("writes an empty history as []", () => {
    expect(JSON.parse(historyJson([]))).toEqual([]);
  });
});
