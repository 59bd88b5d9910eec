import { describe, expect, it } from "vitest";
import { harnessProblems, leftovers, resultOf, runScenarioFile, writeReportTable } from "../helpers.ts";

/**
 * Debian 13's stack (PostgreSQL 17, Patroni 4.0.7, pg_auto_failover 2.2, repmgr 5.5) under the
 * scenarios that certify it, and Patroni 3.0.2 against 4.0.7 under the same freeze, several times:
 * one run of a freeze proves little. The table goes to reports/freeze-stacks.md.
 */
describe("async-data-loss on the trixie stack", () => {
  const run = runScenarioFile("async-data-loss.yaml", ["--backend", "docker", "--stack", "trixie"]);

  for (const topology of ["patroni", "pg_auto_failover", "repmgr"]) {
    it(`${topology}: loses acknowledged writes as the scenario expects, and says so by id`, () => {
      const result = resultOf(run, topology);
      expect(result.versions.postgresql).toContain("17.");
      expect(result.problems).toEqual([]);
      expect(result.figures.lost_writes as number).toBeGreaterThan(0);
      expect(result.lost_write_ids.length).toBe(result.figures.lost_writes);
      expect(result.verdict).toBe("pass");
    });
  }
  it("leaves nothing behind", () => {
    for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
  });
});

const REPEATS = 3;
const rows: string[] = [];

const FREEZES = ["freeze-primary.yaml", "freeze-primary-ttl20.yaml"].flatMap((file) =>
  ["bookworm", "trixie"].map((stack) => [file, stack] as const),
);

describe.each(FREEZES)("%s on Patroni, %s stack", (file, stack) => {
  for (let i = 1; i <= REPEATS; i++) {
    const run = runScenarioFile(file, ["--backend", "docker", "--stack", stack, "--topology", "patroni"]);
    it(`run ${i} completes, faults injected and healed, nothing left behind`, () => {
      const result = resultOf(run, "patroni");
      const f = result.figures;
      rows.push(
        `| ${file.replace(".yaml", "")} | ${stack} | ${result.versions.patroni} | ${i} | ${result.verdict} | ${f.rto_s ?? "—"} | ${f.lost_writes} | ${f.promotions} | ${f.split_brain ? `yes, ${f.split_brain_window_s} s` : "no"} |`,
      );
      expect(harnessProblems(result)).toEqual([]);
      for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
    });
  }
});

describe("the freeze table", () => {
  it("is written to reports/freeze-stacks.md", () => {
    writeReportTable(
      "freeze-stacks.md",
      ["scenario", "stack", "patroni", "run", "verdict", "RTO (s)", "lost", "promotions", "split-brain"],
      rows,
    );
    expect(rows).toHaveLength(FREEZES.length * REPEATS);
  });
});
