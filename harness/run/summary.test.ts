import { describe, expect, it } from "vitest";
import type { PlanFile, PlanFileRun } from "../model/plan.ts";
import type { RunReport } from "../report/reporter.ts";
import type { RunResult } from "../report/reporter.ts";
import { patroniRules } from "../topology/patroni/rules.ts";
import { verify } from "../verify/index.ts";
import { runRecord } from "../verify/test-helpers.ts";
import { summarizePlan } from "./summary.ts";

function run(repeat: number): PlanFileRun {
  return {
    key: `steady/patroni/r${repeat}`,
    group: "steady/patroni",
    dir: `steady-patroni-r${repeat}`,
    scenario: "steady",
    topology: "patroni",
    backend: "local",
    stack: "bookworm",
    image: null,
    point: {},
    repeat,
    seed: repeat,
  };
}

function plan(expect: PlanFile["groups"][number]["expect"], suite: PlanFile["suite"] = null): PlanFile {
  return {
    plan_id: "p",
    seed: 1,
    repeat: 3,
    shard: null,
    suite,
    runs: [run(1), run(2), run(3)],
    groups: [{ group: "steady/patroni", scenario: "steady", topology: "patroni", point: {}, expect }],
  };
}

function result(repeat: number, problems: string[] = []): RunResult {
  const record = runRecord({ problems });
  const report: RunReport = { record, verification: verify(record, patroniRules) };
  return { run: run(repeat), report, dir: `/out/steady-patroni-r${repeat}`, reused: false };
}

describe("summarizePlan", () => {
  it("passes a plan whose runs all passed and whose expectations over repeats held", () => {
    const summary = summarizePlan(plan({ failed_runs: 0 }), [result(1), result(2), result(3)]);
    expect(summary.verdict).toBe("pass");
    expect(summary.groups[0]?.statistics.runs).toBe(3);
    expect(summary.groups[0]?.expectations.map((e) => e.pass)).toEqual([true]);
  });

  it("fails a plan with a failed run, and one with a run missing", () => {
    expect(summarizePlan(plan({}), [result(1), result(2, ["run crashed: x"]), result(3)]).verdict).toBe(
      "fail",
    );
    const partial = summarizePlan(plan({}), [result(1), result(3)]);
    expect(partial.verdict).toBe("fail");
    expect(partial.missing.map((r) => r.key)).toEqual(["steady/patroni/r2"]);
  });

  it("judges a shard by its own runs only", () => {
    const shard = summarizePlan(plan({}), [result(2)], ["steady/patroni/r2"]);
    expect(shard.verdict).toBe("pass");
    expect(shard.missing).toEqual([]);
    expect(shard.results).toHaveLength(1);
  });

  it("judges a certification by its thresholds: a failed run counts only through them", () => {
    const suite = { name: "s", file: "s.yaml", description: "", thresholds: { pass_rate: ">= 60%" } };
    const results = [result(1), result(2, ["run crashed: x"]), result(3)];
    expect(summarizePlan(plan({ pass_rate: ">= 60%" }, suite), results).verdict).toBe("pass");
    expect(summarizePlan(plan({ failed_runs: 0 }, suite), results).verdict).toBe("fail");
  });
});
