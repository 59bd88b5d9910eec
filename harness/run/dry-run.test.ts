import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadScenario, parseScenario } from "../scenario/scenario.ts";
import { type ClusterNow, describePlan, describeStep } from "./dry-run.ts";
import { buildPlan } from "./plan.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const now: ClusterNow = {
  status: {
    reachable: true,
    primary: "n2",
    syncStandbys: ["n3"],
    replicas: ["n1", "n3"],
    healthy: true,
    detail: "primary n2, 2 streaming",
  },
  members: ["n1", "n2", "n3"].map((name) => ({ name, kind: "postgres" as const, address: name })),
};

describe("dry run", () => {
  it("names the members each step would hit on the cluster as it is now", () => {
    const scenario = parseScenario(
      `name: t
topologies: [patroni]
cluster: { nodes: 3 }
steps:
  - fault: kill
    target: [primary, sync_standby]
  - fault: freeze
    target: replica
    duration: 5s
  - heal: all
  - fault: partition
    isolate: replicas
`,
      "t.yaml",
    );
    expect(scenario.steps.map((step) => describeStep(step, now))).toEqual([
      "fault kill → primary = n2 + sync_standby = n3",
      "fault freeze → replica = one of n1, n3 for 5s",
      "heal every fault",
      "fault partition → replicas = n1, n3",
    ]);
  });

  it("says when a group has nobody right now, and leaves targets unresolved without a cluster", () => {
    const scenario = loadScenario(join(root, "scenarios/kill-primary.yaml"));
    const fault = scenario.steps.find((step) => step.kind === "fault");
    if (!fault) throw new Error("kill-primary has a fault step");
    const leaderless = { ...now, status: { ...now.status, primary: null, detail: "no leader" } };
    expect(describeStep(fault, leaderless)).toMatch(/^fault kill → primary = none right now \(.*no leader/);
    expect(describeStep(fault, null)).toBe("fault kill → primary (resolved when the step fires)");
  });

  it("prints one block per run with its seed, so a run can be replayed", () => {
    const scenario = loadScenario(join(root, "scenarios/kill-primary.yaml"));
    const plan = buildPlan([scenario], { topologies: ["patroni"], backend: {}, repeat: 2, seed: 7 });
    const lines = describePlan(plan, null);
    expect(lines[0]).toBe("dry run: 2 run(s), plan seed 7; nothing is started or injected");
    expect(
      lines.filter((line) => /^kill-primary\/patroni\/r\d \(seed \d+, backend local\)$/.test(line)),
    ).toHaveLength(2);
  });
});
