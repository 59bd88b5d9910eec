import { describe, expect, it } from "vitest";
import { parseScenario } from "../scenario/scenario.ts";
import { FAULTS, NEMESIS_FAULTS, faults } from "./index.ts";

const base = `name: t
topologies: [patroni]
cluster:
  nodes: 3
steps:
  - sleep: 2s
`;

const errorOf = (step: string): string => {
  try {
    parseScenario(base.replace("  - sleep: 2s", step), "s.yaml");
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected a validation error");
};

describe("the fault registry", () => {
  it("names each fault once, by the name it declares", () => {
    expect(new Set(FAULTS).size).toBe(FAULTS.length);
    for (const name of FAULTS) expect(faults[name].name).toBe(name);
  });

  it("describes every option key a fault owns, and aims only by keys it owns", () => {
    for (const name of FAULTS) {
      const { options, aim } = faults[name];
      for (const [key, field] of Object.entries(options.shape)) {
        expect(field.description, `${name}.${key}`).toMatch(/\S/);
      }
      if (aim !== "target") for (const key of aim.keys) expect(Object.keys(options.shape)).toContain(key);
    }
  });

  it("lets the nemesis draw exactly the faults that say how a target alone aims them", () => {
    expect(NEMESIS_FAULTS).toEqual(FAULTS.filter((name) => faults[name].nemesis !== null));
    expect(NEMESIS_FAULTS).not.toContain("clock-skew");
    expect(NEMESIS_FAULTS).not.toContain("latency");
    expect(faults.partition.nemesis?.("primary", { percent: 30 })).toEqual({ isolate: "primary" });
    expect(faults["packet-loss"].nemesis?.("primary", { percent: 30 })).toEqual({ percent: 30 });
  });

  it("says once which faults have no heal: a step cannot give them a duration", () => {
    const procedures = FAULTS.filter((name) => !faults[name].heals);
    expect(procedures).toEqual(["switchover", "rolling-restart", "crash-backend"]);
    for (const fault of procedures) {
      expect(errorOf(`  - fault: ${fault}\n    target: primary\n    duration: 5s`)).toContain(
        "steps[0].duration: duration belongs to a fault that can be healed",
      );
    }
  });
});

describe("the step schema derived from the registry", () => {
  it("refuses an option key on a step of a fault that does not declare it, naming those that do", () => {
    expect(errorOf("  - fault: kill\n    target: primary\n    offset: +30s")).toContain(
      "steps[0].offset: offset belongs to a clock-skew step",
    );
    expect(errorOf("  - fault: kill\n    target: primary\n    delay: 1s")).toContain(
      "steps[0].delay: delay belongs to a latency or slow-close step",
    );
    expect(errorOf("  - sleep: 1s\n    percent: 5")).toContain(
      "steps[0].percent: percent belongs to a packet-loss step",
    );
    expect(errorOf("  - wait: healthy\n    jitter: 1s")).toContain(
      "steps[0].jitter: jitter belongs to a sleep or latency step",
    );
  });

  it("asks for a fault's required options by name", () => {
    expect(errorOf("  - fault: clock-skew\n    target: primary")).toContain(
      "steps[0].offset: a clock-skew step needs offset",
    );
    expect(errorOf("  - fault: bandwidth\n    between: [[primary], [replicas]]")).toContain(
      "steps[0].kbps: a bandwidth step needs kbps",
    );
  });

  it("runs a fault's own rules across its keys, and says how it is aimed", () => {
    expect(errorOf("  - fault: partition\n    isolate: primary\n    direction: one-way")).toContain(
      "steps[0].direction: direction belongs to a step with between",
    );
    expect(
      errorOf("  - fault: latency\n    target: primary\n    between: [[primary], [dcs]]\n    delay: 1s"),
    ).toContain("steps[0].target: a latency step names between, not target");
    expect(errorOf("  - fault: partition\n    target: primary\n    isolate: primary")).toContain(
      "steps[0].target: a partition step names isolate or between, not target",
    );
  });

  it("checks the member groups a fault's options name against the cluster", () => {
    expect(errorOf("  - fault: partition\n    isolate: node:n9")).toContain(
      'steps[0].isolate: no node "n9" in a 3-node cluster',
    );
    expect(errorOf("  - fault: switchover\n    target: primary\n    to: node:n9")).toContain(
      'steps[0].to: no node "n9" in a 3-node cluster',
    );
    expect(errorOf("  - fault: latency\n    between: [[monitor], [primary]]\n    delay: 1s")).toContain(
      "steps[0].between: monitor exists only on pg_auto_failover",
    );
  });

  it("collects what the scenario's faults need of the backend", () => {
    const scenario = parseScenario(
      base.replace("  - sleep: 2s", "  - fault: clock-skew\n    target: primary\n    offset: -2m"),
      "s.yaml",
    );
    expect(scenario.needs).toEqual(["faketime"]);
  });
});
