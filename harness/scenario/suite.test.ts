import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadScenario } from "./scenario.ts";
import { isSuiteFile, loadSuite } from "./suite.ts";
import { suiteJsonSchema } from "./write-schema.ts";

const shipped = fileURLToPath(new URL("../../scenarios/certification.yaml", import.meta.url));

function suiteFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "pgchaos-suite-")), "suite.yaml");
  writeFileSync(file, text);
  return file;
}

describe("certification suites", () => {
  it("loads the shipped suite: eight faults, three topologies, scenarios that exist and load", () => {
    const suite = loadSuite(shipped);
    expect(suite.scenarios).toHaveLength(8);
    expect(suite.topologies).toEqual(["patroni", "pg_auto_failover", "repmgr"]);
    expect(suite.thresholds).toEqual({ failed_runs: 0, lost_writes_runs: 0 });
    for (const file of suite.scenarios) {
      expect(existsSync(file)).toBe(true);
      expect(loadScenario(file).topologies).toEqual(expect.arrayContaining(suite.topologies ?? []));
    }
    expect(isSuiteFile(shipped)).toBe(true);
    expect(isSuiteFile(fileURLToPath(new URL("../../scenarios/kill-primary.yaml", import.meta.url)))).toBe(
      false,
    );
  });

  it("defaults to failed_runs: 0 and rejects a per-run key as a threshold, at its line", () => {
    expect(loadSuite(suiteFile("name: s\nscenarios: [a.yaml]\n")).thresholds).toEqual({ failed_runs: 0 });
    expect(() => loadSuite(suiteFile("name: s\nscenarios: [a.yaml]\nthresholds:\n  rto: 5s\n"))).toThrow(
      /suite.yaml:4:\d+: thresholds.rto: rto is not an expectation over repeats/,
    );
  });

  it("keeps scenarios/suite.schema.json in step with the schema (npm run schema)", () => {
    const onDisk = readFileSync(new URL("../../scenarios/suite.schema.json", import.meta.url), "utf8");
    expect(onDisk).toBe(suiteJsonSchema());
  });
});
