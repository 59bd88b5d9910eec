import { readdirSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { jsonReporter, toResultJson } from "./json.ts";
import { fromResultJson, loadRunReport, parseResultJson } from "./load.ts";
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
    expect(back.verification.promotions).toEqual(report.verification.promotions);
    expect(back.verification.unknown_found_ids).toEqual(report.verification.unknown_found_ids);
    expect(back.record.timeline).toEqual(report.record.timeline);
    expect(back.record.members).toEqual(report.record.members);
    expect(back.scenarioSource).toBe("name: kill-primary\n");
    expect(back.scenarioDescription).toBe("Hard crash.");
  });

  it("derives the parts an older result.json lacks from the history", () => {
    const report = fixtureReport();
    const { rto_per_fault: _r, unknown_found_ids: _u, ...older } = toResultJson(report);
    const back = fromResultJson(older, report.record.history);
    expect(back.verification.rto_per_fault.map((r) => [r.fault, r.at_ns])).toEqual([["kill", 3e9]]);
    expect(back.verification.unknown_found_ids).toEqual([]);
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
      expect(report.verification.figures).toEqual({ ...result.figures, groups: result.figures.groups ?? {} });
      expect(report.record.history.length).toBe(
        result.figures.acknowledged_writes + result.figures.failed_writes + result.figures.unknown_writes,
      );
      // RTO recomputed per fault agrees with the recorded worst figure.
      const worst = Math.max(...report.verification.rto_per_fault.map((r) => r.rto_s ?? Number.NaN));
      expect(worst).toBeCloseTo(result.figures.rto_s, 6);
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
