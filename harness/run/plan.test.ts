import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { deriveSeed } from "../common/random.ts";
import { loadScenario, parseScenario } from "../scenario/scenario.ts";
import { buildPlan, parseShard, selectRuns } from "./plan.ts";

const killPrimary = loadScenario(
  fileURLToPath(new URL("../../scenarios/kill-primary.yaml", import.meta.url)),
);

const swept = parseScenario(
  `name: sweep-ttl
topologies: [patroni, repmgr]
sweep:
  patroni.ttl: [10, 20, 30]
cluster:
  ha:
    patroni: { ttl: 10, loop_wait: 2 }
steps:
  - wait: healthy
`,
  "sweep.yaml",
);

describe("buildPlan", () => {
  it("gives every run a stable key, directory and seed derived from the plan's seed", () => {
    const plan = buildPlan([killPrimary], { backend: {}, repeat: 2, seed: 42 });
    expect(plan.runs.map((r) => r.key)).toEqual([
      "kill-primary/patroni/r1",
      "kill-primary/patroni/r2",
      "kill-primary/patroni-k8s/r1",
      "kill-primary/patroni-k8s/r2",
      "kill-primary/pg_auto_failover/r1",
      "kill-primary/pg_auto_failover/r2",
      "kill-primary/repmgr/r1",
      "kill-primary/repmgr/r2",
    ]);
    expect(plan.runs[1]?.dir).toBe("kill-primary-patroni-r2");
    expect(plan.runs[1]?.group).toBe("kill-primary/patroni");
    expect(plan.runs[1]?.seed).toBe(deriveSeed(42, "kill-primary/patroni/r2"));
    // Same command, same plan; another seed, another plan.
    expect(buildPlan([killPrimary], { backend: {}, repeat: 2, seed: 42 }).id).toBe(plan.id);
    expect(buildPlan([killPrimary], { backend: {}, repeat: 2, seed: 43 }).id).not.toBe(plan.id);
  });

  it("multiplies only the topology a setting sweep concerns, and applies each point", () => {
    const plan = buildPlan([swept], { backend: {}, repeat: 1, seed: 1 });
    expect(plan.runs.map((r) => r.key)).toEqual([
      "sweep-ttl/patroni/patroni.ttl=10/r1",
      "sweep-ttl/patroni/patroni.ttl=20/r1",
      "sweep-ttl/patroni/patroni.ttl=30/r1",
      "sweep-ttl/repmgr/r1",
    ]);
    expect(plan.runs[1]?.scenario.cluster.ha.patroni).toEqual({ ttl: 20, loop_wait: 2 });
    expect(plan.runs[1]?.point).toEqual({ "patroni.ttl": 20 });
    expect(plan.runs[3]?.scenario.cluster.ha.patroni).toEqual({ ttl: 10, loop_wait: 2 });
  });

  it("runs a suite's stacks as a sweep on Docker, and refuses them on the local backend", () => {
    const plan = buildPlan([killPrimary], {
      topologies: ["repmgr"],
      stacks: ["bookworm", "trixie"],
      backend: { backend: "docker" },
      repeat: 1,
      seed: 1,
    });
    expect(plan.runs.map((r) => [r.key, r.backend.stack])).toEqual([
      ["kill-primary/repmgr/stack=bookworm/r1", "bookworm"],
      ["kill-primary/repmgr/stack=trixie/r1", "trixie"],
    ]);
    expect(() => buildPlan([killPrimary], { stacks: ["trixie"], backend: {}, repeat: 1, seed: 1 })).toThrow(
      /needs --backend docker/,
    );
  });

  it("leaves patroni-k8s out off the local backend, saying so; refuses it there when named", () => {
    const listed = buildPlan([killPrimary], { backend: { backend: "docker" }, repeat: 1, seed: 1 });
    expect(listed.runs.map((r) => r.topology)).not.toContain("patroni-k8s");
    expect(listed.runs.length).toBeGreaterThan(0);
    expect(listed.skipped).toEqual([
      "kill-primary/patroni-k8s: patroni-k8s runs on the local backend only, not docker",
    ]);
    expect(() =>
      buildPlan([killPrimary], {
        topologies: ["patroni-k8s"],
        backend: { backend: "docker" },
        repeat: 1,
        seed: 1,
      }),
    ).toThrow(/kill-primary.yaml: patroni-k8s runs on the local backend only, not docker$/);
    const plan = buildPlan([killPrimary], {
      topologies: ["patroni", "repmgr"],
      backend: { backend: "docker" },
      repeat: 1,
      seed: 1,
    });
    expect(plan.runs.map((r) => r.key)).toEqual(["kill-primary/patroni/r1", "kill-primary/repmgr/r1"]);
  });

  it("rejects a bad repeat, an unknown topology and a sweep over a topology the scenario lacks", () => {
    expect(() => buildPlan([killPrimary], { backend: {}, repeat: 0, seed: 1 })).toThrow(/--repeat 0/);
    expect(() =>
      buildPlan([killPrimary], { topologies: ["galera"], backend: {}, repeat: 1, seed: 1 }),
    ).toThrow(/--topology galera: unknown/);
    expect(() =>
      parseScenario(
        "name: x\ntopologies: [patroni]\ncluster: {}\nsweep:\n  repmgr.reconnect_attempts: [1, 2]\nsteps:\n  - wait: healthy\n",
        "x.yaml",
      ),
    ).toThrow(/x.yaml:5:\d+: sweep.repmgr.reconnect_attempts: repmgr is not among/);
    expect(() =>
      parseScenario(
        "name: x\ntopologies: [repmgr]\ncluster: {}\nsweep:\n  repmgr.reconnect_attempts: [0]\nsteps:\n  - wait: healthy\n",
        "x.yaml",
      ),
    ).toThrow(/sweep.repmgr.reconnect_attempts: 0:/);
  });
});

describe("selectRuns", () => {
  const plan = buildPlan([killPrimary], { backend: {}, repeat: 2, seed: 42 });

  it("deals shards round-robin: disjoint, together the whole plan, each with every topology", () => {
    const shards = [1, 2, 3].map((index) =>
      selectRuns(plan, { shard: { index, count: 3 } }).map((r) => r.key),
    );
    expect(shards.flat().sort()).toEqual(plan.runs.map((r) => r.key).sort());
    expect(new Set(shards.flat()).size).toBe(plan.runs.length);
    expect(shards[0]).toEqual([
      "kill-primary/patroni/r1",
      "kill-primary/patroni-k8s/r2",
      "kill-primary/repmgr/r1",
    ]);
  });

  it("selects a run or a group by key, and names a key that is not in the plan", () => {
    expect(selectRuns(plan, { only: ["kill-primary/repmgr/r2"] }).map((r) => r.key)).toEqual([
      "kill-primary/repmgr/r2",
    ]);
    expect(selectRuns(plan, { only: ["kill-primary/repmgr"] })).toHaveLength(2);
    expect(() => selectRuns(plan, { only: ["kill-primary/repmgr/r9"] })).toThrow(/no such run in this plan/);
  });

  it("parses i/n and rejects what is not a shard", () => {
    expect(parseShard("2/3")).toEqual({ index: 2, count: 3 });
    for (const bad of ["0/3", "4/3", "1", "a/b"]) expect(() => parseShard(bad)).toThrow(/--shard/);
  });
});
