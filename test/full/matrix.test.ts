import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isSuiteFile } from "../../harness/scenario/suite.ts";
import { ROOT, harnessProblems, leftovers, runScenarioFile } from "../helpers.ts";

/**
 * The long matrix for release certification: every shipped scenario on every topology it lists.
 * Verdicts are what the HA managers really did (some fail: that is the finding, read the report);
 * what this asserts is that every run completed, every fault injected and healed, and nothing was left.
 */
// certification.yaml is a suite of these scenarios, not one of them.
const scenarios = readdirSync(join(ROOT, "scenarios")).filter(
  (f) => f.endsWith(".yaml") && !isSuiteFile(join(ROOT, "scenarios", f)),
);

describe.each(scenarios)("%s", (file) => {
  const run = runScenarioFile(file);

  it("runs on every listed topology, injecting and healing every fault", () => {
    expect(run.results.size).toBeGreaterThan(0);
    for (const result of run.results.values()) {
      expect(harnessProblems(result), `${file} on ${result.topology}`).toEqual([]);
    }
  });

  it("leaves nothing behind", () => {
    for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
  });
});
