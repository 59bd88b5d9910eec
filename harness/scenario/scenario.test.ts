import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadScenario, parseScenario } from "./scenario.ts";
import { scenarioJsonSchema } from "./write-schema.ts";

const base = `name: t
topologies: [patroni]
cluster:
  nodes: 3
steps:
  - sleep: 2s
`;

const errorOf = (source: string): string => {
  try {
    parseScenario(source, "s.yaml");
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected a validation error");
};

describe("scenario loading", () => {
  it("parses the shipped kill-primary scenario into typed steps", () => {
    const scenario = loadScenario(
      fileURLToPath(new URL("../../scenarios/kill-primary.yaml", import.meta.url)),
    );
    expect(scenario.steps).toEqual([
      { kind: "wait", until: "healthy", timeoutMs: 60_000, stableMs: 3000 },
      { kind: "sleep", ms: 3000, jitterMs: 0 },
      {
        kind: "fault",
        fault: "kill",
        target: "primary",
        between: null,
        options: {},
        durationMs: null,
        at: expect.stringMatching(/kill-primary\.yaml:\d+:\d+$/),
      },
      { kind: "wait", until: "writable", timeoutMs: 60_000, stableMs: 0 },
      { kind: "heal", mode: "repair", target: null },
      { kind: "wait", until: "healthy", timeoutMs: 120_000, stableMs: 3000 },
    ]);
    expect(scenario.cluster.ha.patroni).toEqual({ ttl: 10, loop_wait: 2, retry_timeout: 3 });
  });

  it("applies defaults", () => {
    const scenario = parseScenario(base, "s.yaml");
    expect(scenario.workload).toEqual({
      write: { kind: "ledger" },
      writers: 2,
      rate: 50,
      timeoutMs: 10_000,
      readers: { primary: 0, replica: 0, rate: 50 },
      placed: [],
    });
    expect(scenario.entrypoints).toEqual(["direct"]);
    expect(scenario.cluster.replication).toBe("async");
  });

  it("reads list-append transactions, readers and placed readers", () => {
    const scenario = parseScenario(
      `${base}workload:
  kind: list-append
  isolation: repeatable-read
  readers: { primary: 1, replica: 2, rate: 0 }
  groups:
    - name: beside
      writers: 0
      readers: 1
      placement: { with: replica, connect: local }
`,
      "s.yaml",
    );
    expect(scenario.workload.write).toEqual({
      kind: "list-append",
      isolation: "repeatable-read",
      keys: 5,
      appendsPerKey: 32,
    });
    expect(scenario.workload.readers).toEqual({ primary: 1, replica: 2, rate: 0 });
    expect(scenario.workload.placed).toEqual([
      { name: "beside", writers: 0, readers: 1, rate: 50, with: "replica", connect: "local" },
    ]);
  });

  it("rejects transaction settings on the ledger and an empty placed group", () => {
    expect(errorOf(`${base}workload:\n  isolation: serializable\n`)).toBe(
      "s.yaml:8:14: workload.isolation: only with workload.kind: list-append",
    );
    expect(
      errorOf(
        `${base}workload:\n  groups:\n    - name: g\n      writers: 0\n      placement: { with: primary }\n`,
      ),
    ).toMatch(/^s\.yaml:10:16: workload\.groups\[0\]: give it writers or readers/);
  });

  it("accepts replica readers through pgpool (its load balancing is their read-only path)", () => {
    const scenario = parseScenario(
      `${base.replace("topologies: [patroni]", "topologies: [repmgr]\nentrypoint: pgpool")}workload:\n  readers: { replica: 1 }\n`,
      "s.yaml",
    );
    expect(scenario.entrypoints).toEqual(["pgpool"]);
    expect(scenario.workload.readers.replica).toBe(1);
  });

  it("reads the dns entry point's settings, and refuses a name without its name service", () => {
    const dns = base.replace("topologies: [patroni]", "topologies: [patroni]\nentrypoint: [direct, dns]");
    const scenario = parseScenario(`${dns}dns: { interval: 30s, ttl: 5s }\n`, "s.yaml");
    expect(scenario.entrypoints).toEqual(["direct", "dns"]);
    expect(scenario.nameService).toEqual({ intervalMs: 30_000, ttlS: 5 });
    // Data Services Manager's poll when nothing is said.
    expect(parseScenario(dns, "s.yaml").nameService.intervalMs).toBe(300_000);
    expect(errorOf(`${dns}dns: { ttl: 1500ms }\n`)).toBe(
      "s.yaml:8:13: dns.ttl: whole seconds (DNS TTLs are)",
    );
    expect(
      errorOf(
        `${base}workload:\n  groups:\n    - name: g\n      writers: 1\n      placement: { with: primary, connect: dns }\n`,
      ),
    ).toBe(
      "s.yaml:11:44: workload.groups[0].placement.connect: dns needs entrypoint: dns (its name service)",
    );
  });

  it("names line, column and key of an unknown key", () => {
    expect(errorOf(base.replace("  nodes: 3", "  nodes: 3\n  nodez: 4"))).toBe(
      's.yaml:5:3: cluster: unknown key "nodez"',
    );
  });

  it("rejects a bad duration at its position", () => {
    expect(errorOf(base.replace("sleep: 2s", "sleep: 2 seconds"))).toBe(
      "s.yaml:6:12: steps[0].sleep: is not a duration (write e.g. 500ms, 3s, 2m)",
    );
  });

  it("reads abort_if write_gap as milliseconds, none by default, and rejects a bare duration", () => {
    expect(parseScenario(base, "s.yaml").abortWriteGapMs).toBeNull();
    const guarded = parseScenario(`${base}abort_if: { write_gap: "> 120s" }\n`, "s.yaml");
    expect(guarded.abortWriteGapMs).toBe(120_000);
    expect(parseScenario(`${base}abort_if: { write_gap: ">2m" }\n`, "s.yaml").abortWriteGapMs).toBe(120_000);
    expect(errorOf(`${base}abort_if: { write_gap: 120s }\n`)).toBe(
      's.yaml:7:24: abort_if.write_gap: write "> <duration>", e.g. "> 120s"',
    );
  });

  it("rejects a step with two actions", () => {
    expect(errorOf(base.replace("  - sleep: 2s", "  - sleep: 2s\n    wait: healthy"))).toContain(
      "steps[0]: a step has exactly one of wait, sleep, fault, heal, nemesis (found wait, sleep)",
    );
  });

  it("rejects a fault without target and a target on a node that does not exist", () => {
    expect(errorOf(base.replace("  - sleep: 2s", "  - fault: kill"))).toContain(
      "steps[0].target: a fault step needs a target",
    );
    expect(errorOf(base.replace("  - sleep: 2s", "  - fault: kill\n    target: node:n4"))).toBe(
      's.yaml:7:13: steps[0].target: no node "n4" in a 3-node cluster (nodes are n1, n2, n3)',
    );
  });

  it("rejects a target that the scenario's topology cannot have", () => {
    expect(errorOf(base.replace("  - sleep: 2s", "  - fault: kill\n    target: monitor"))).toBe(
      "s.yaml:7:13: steps[0].target: monitor exists only on pg_auto_failover, not on patroni",
    );
  });

  it("reads rolling-restart settings as PostgreSQL text and rejects them elsewhere", () => {
    const step = parseScenario(
      base.replace(
        "  - sleep: 2s",
        "  - fault: rolling-restart\n    target: primary\n    settings: { shared_buffers: 256MB, max_connections: 150, wal_compression: true }",
      ),
      "s.yaml",
    ).steps[0];
    expect(step).toMatchObject({
      options: { settings: { shared_buffers: "256MB", max_connections: "150", wal_compression: "on" } },
    });
    expect(
      errorOf(
        base.replace(
          "  - sleep: 2s",
          "  - fault: kill\n    target: primary\n    settings: { work_mem: 8MB }",
        ),
      ),
    ).toContain("steps[0].settings: settings belongs to a rolling-restart step");
    expect(
      errorOf(
        base.replace(
          "  - sleep: 2s",
          "  - fault: rolling-restart\n    target: primary\n    settings: { Bad-Name: 1 }",
        ),
      ),
    ).toContain("is not a PostgreSQL parameter name");
  });

  it("accepts a switchover to a named node and rejects `to` elsewhere", () => {
    const step = parseScenario(
      base.replace("  - sleep: 2s", "  - fault: switchover\n    target: primary\n    to: node:n2"),
      "s.yaml",
    ).steps[0];
    expect(step).toEqual({
      kind: "fault",
      fault: "switchover",
      target: "primary",
      between: null,
      options: { to: "n2" },
      durationMs: null,
      at: "s.yaml:6:12",
    });
    expect(
      errorOf(base.replace("  - sleep: 2s", "  - fault: kill\n    target: primary\n    to: node:n2")),
    ).toContain("steps[0].to: to belongs to a switchover step");
  });

  it("reads partitions, packet loss and self-healing durations", () => {
    const partition = parseScenario(
      base.replace(
        "  - sleep: 2s",
        "  - fault: partition\n    between: [[primary], [replicas, clients]]\n    direction: one-way\n    duration: 5s",
      ),
      "s.yaml",
    ).steps[0];
    expect(partition).toEqual({
      kind: "fault",
      fault: "partition",
      target: null,
      between: [["primary"], ["replicas", "clients"]],
      options: { between: [["primary"], ["replicas", "clients"]], direction: "one-way" },
      durationMs: 5000,
      at: "s.yaml:6:12",
    });
    const isolate = parseScenario(
      base.replace("  - sleep: 2s", "  - fault: partition\n    isolate: primary"),
      "s.yaml",
    );
    expect(isolate.steps[0]).toMatchObject({ fault: "partition", target: "primary" });
    const loss = parseScenario(
      base.replace("  - sleep: 2s", "  - fault: packet-loss\n    target: primary\n    percent: 30"),
      "s.yaml",
    );
    expect(loss.steps[0]).toMatchObject({ options: { percent: 30 } });
  });

  it("reads a fault on several groups at once, and heals on chosen members", () => {
    const steps = parseScenario(
      base.replace(
        "  - sleep: 2s",
        "  - fault: kill\n    target: [primary, sync_standby]\n  - heal: restart\n    target: node:n2\n  - heal: all",
      ),
      "s.yaml",
    ).steps;
    expect(steps[0]).toMatchObject({ kind: "fault", target: "primary + sync_standby" });
    expect(steps[1]).toEqual({ kind: "heal", mode: "restart", target: "node:n2" });
    expect(steps[2]).toEqual({ kind: "heal", mode: "repair", target: null });
    expect(errorOf(base.replace("  - sleep: 2s", "  - heal: all\n    target: node:n7"))).toContain(
      'steps[0].target: no node "n7" in a 3-node cluster',
    );
    expect(errorOf(base.replace("  - sleep: 2s", "  - sleep: 1s\n    target: primary"))).toContain(
      "target belongs to a fault or heal step",
    );
  });

  it("reads link faults, clock skews and the HA agent's faults", () => {
    const step = (text: string) => parseScenario(base.replace("  - sleep: 2s", text), "s.yaml").steps[0];
    expect(
      step("  - fault: latency\n    between: [[primary], [dcs]]\n    delay: 200ms\n    jitter: 20ms"),
    ).toMatchObject({
      fault: "latency",
      target: null,
      between: [["primary"], ["dcs"]],
      options: { between: [["primary"], ["dcs"]], delay: 200, jitter: 20 },
    });
    expect(step("  - fault: bandwidth\n    between: [[primary], [replicas]]\n    kbps: 512")).toMatchObject({
      options: { kbps: 512 },
    });
    expect(step("  - fault: clock-skew\n    target: primary\n    offset: -2m")).toMatchObject({
      target: "primary",
      options: { offset: -120_000 },
    });
    expect(step("  - fault: kill-agent\n    target: replica")).toMatchObject({ fault: "kill-agent" });
    expect(
      errorOf(base.replace("  - sleep: 2s", "  - fault: latency\n    target: primary\n    delay: 1s")),
    ).toContain("a latency step needs between");
    expect(
      errorOf(base.replace("  - sleep: 2s", "  - fault: latency\n    between: [[primary], [dcs]]")),
    ).toContain("steps[0].delay: a latency step needs delay");
    expect(
      errorOf(base.replace("  - sleep: 2s", "  - fault: kill\n    target: primary\n    kbps: 5")),
    ).toContain("steps[0].kbps: kbps belongs to a bandwidth step");
    expect(
      errorOf(base.replace("  - sleep: 2s", "  - fault: clock-skew\n    target: primary\n    offset: 30s")),
    ).toContain("is a signed duration");
    expect(
      errorOf(
        base.replace(
          "  - sleep: 2s",
          "  - fault: kill\n    target: primary\n    between: [[primary], [dcs]]",
        ),
      ),
    ).toContain("between belongs to a partition, latency, bandwidth, reset-peer or slow-close step");
  });

  it("takes the clients' links for latency and reset-peer, not for bandwidth nor from members to clients", () => {
    const step = (text: string) => parseScenario(base.replace("  - sleep: 2s", text), "s.yaml").steps[0];
    expect(
      step(
        "  - fault: latency\n    between: [[clients], [primary]]\n    direction: one-way\n    delay: 200ms",
      ),
    ).toMatchObject({ options: { between: [["clients"], ["primary"]], direction: "one-way", delay: 200 } });
    expect(step("  - fault: reset-peer\n    between: [[primary], [clients]]")).toMatchObject({
      options: { between: [["primary"], ["clients"]] },
    });
    expect(
      errorOf(
        base.replace(
          "  - sleep: 2s",
          "  - fault: bandwidth\n    between: [[clients], [primary]]\n    kbps: 64",
        ),
      ),
    ).toMatch(
      /^s\.yaml:\d+:\d+: steps\[0\]\.between: bandwidth shapes what members send and cannot name clients/,
    );
    expect(
      errorOf(
        base.replace(
          "  - sleep: 2s",
          "  - fault: latency\n    between: [[primary], [clients]]\n    direction: one-way\n    delay: 1s",
        ),
      ),
    ).toContain("one-way from members to clients is no link");
  });

  it("rejects malformed network faults with the key at fault", () => {
    expect(errorOf(base.replace("  - sleep: 2s", "  - fault: partition\n    target: primary"))).toContain(
      "a partition needs exactly one of isolate, between",
    );
    expect(errorOf(base.replace("  - sleep: 2s", "  - fault: packet-loss\n    target: primary"))).toContain(
      "steps[0].percent: a packet-loss step needs percent",
    );
    expect(
      errorOf(base.replace("  - sleep: 2s", "  - fault: partition\n    between: [[primary], [moon]]")),
    ).toContain("is not a member group");
    expect(
      errorOf(
        base
          .replace("[patroni]", "[pg_auto_failover]")
          .replace("  - sleep: 2s", "  - fault: kill\n    target: dcs"),
      ),
    ).toBe("s.yaml:7:13: steps[0].target: dcs exists only on patroni, patroni-k8s, not on pg_auto_failover");
  });

  it("rejects an unknown topology and an unknown expectation key", () => {
    expect(errorOf(base.replace("[patroni]", "[stolon]"))).toContain("s.yaml:2:");
    expect(errorOf(`${base}expect:\n  rpo: 0\n`)).toContain("expect.rpo");
  });

  it("reports YAML syntax errors with their position", () => {
    expect(errorOf("name: [unclosed\n")).toMatch(/^s\.yaml:\d+:\d+: /);
  });

  it("keeps scenarios/schema.json in step with the schema (npm run schema)", () => {
    const onDisk = readFileSync(new URL("../../scenarios/schema.json", import.meta.url), "utf8");
    expect(onDisk).toBe(scenarioJsonSchema());
  });
});
