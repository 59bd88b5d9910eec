import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INSTRUMENT_MARKER, type StartedBackend, type StartedMember } from "../harness/backend/backend.ts";
import { LocalBackend } from "../harness/backend/local.ts";
import { pollUntil } from "../harness/common/clock.ts";
import { run } from "../harness/common/exec.ts";
import type { FaultContext, Healable } from "../harness/faults/fault.ts";
import { type FaultName, faults } from "../harness/faults/index.ts";
import { resolveTarget } from "../harness/faults/targets.ts";
import { loadScenario } from "../harness/scenario/scenario.ts";
import { memberEnv } from "../harness/topology/members.ts";
import { patroni } from "../harness/topology/patroni/patroni.ts";
import type { Topology } from "../harness/topology/topology.ts";
import {
  ROOT,
  ackedMs,
  faultWindows,
  harnessProblems,
  historyOf,
  leftovers,
  median,
  resultOf,
  runScenarioFile,
} from "./helpers.ts";

const SCENARIO = "test/scenarios/links.yaml";

describe("links scenario: latency, bandwidth and reset-peer through the runner", () => {
  const run = runScenarioFile(SCENARIO);

  it("injects and heals each link fault, and Patroni keeps its leader and every write", () => {
    const result = resultOf(run, "patroni");
    expect(harnessProblems(result)).toEqual([]);
    const windows = faultWindows(result);
    expect(windows.map((w) => w.fault)).toEqual(["latency", "bandwidth", "reset-peer"]);
    for (const window of windows) expect(window.to_ns).toBeGreaterThan(window.from_ns);
    expect(result.figures.lost_writes).toBe(0);
    expect(result.figures.promotions).toBe(0);
    expect(result.verdict).toBe("pass");
  });

  it("leaves nothing behind", () => {
    expect(run.runIds).toHaveLength(1);
    for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
  });
});

describe("links-clients: latency between the clients and HAProxy, measured from the writes themselves", () => {
  const run = runScenarioFile("test/scenarios/links-clients.yaml");
  const DELAY_MS = 250;

  it("slows every write through HAProxy by the asked round trip while in force, and only then", () => {
    const result = resultOf(run, "patroni");
    expect(harnessProblems(result)).toEqual([]);
    const windows = faultWindows(result);
    expect(windows.map((w) => w.fault)).toEqual(["latency"]);
    const { from_ns: inject, to_ns: heal } = windows[0] as (typeof windows)[number];
    const history = historyOf(run, "patroni").filter((w) => w.group === "haproxy");
    const before = ackedMs(history, 0, inject);
    const during = ackedMs(history, inject, heal);
    const after = ackedMs(history, heal + 2e9, Number.POSITIVE_INFINITY);
    console.log(
      `clients ↔ haproxy latency ${DELAY_MS} ms: write p50 before ${median(before).toFixed(1)} ms, during ${median(during).toFixed(1)} ms (${during.length} writes), after ${median(after).toFixed(1)} ms`,
    );
    expect(during.length).toBeGreaterThan(10);
    // Each write is one round trip to HAProxy (a prepared INSERT): it pays the delay once, ±20 %.
    expect(median(during) - median(before)).toBeGreaterThan(DELAY_MS * 0.8);
    expect(median(during) - median(before)).toBeLessThan(DELAY_MS * 1.2);
    expect(Math.min(...during)).toBeGreaterThan(DELAY_MS * 0.8);
    expect(median(after)).toBeLessThan(DELAY_MS / 2);
    expect(result.figures.lost_writes).toBe(0);
    expect(result.figures.promotions).toBe(0);
    expect(result.verdict).toBe("pass");
  });

  it("leaves nothing behind", () => {
    for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
  });
});

/** Every process on this machine whose argv carries the instrument marker and one of the run's paths. */
function instrumentsOf(runId: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ");
      if (cmdline.includes(INSTRUMENT_MARKER) && cmdline.includes(`pgchaos-${runId}-`))
        found.push(`${entry}: ${cmdline}`);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

describe("link faults on a real Patroni cluster: measured effect, heal, nothing left", () => {
  const scenario = loadScenario(`${ROOT}${SCENARIO}`);
  const runId = `t${randomBytes(2).toString("hex")}`;
  const password = randomBytes(8).toString("hex");
  let backend: StartedBackend;
  let topology: Topology;
  let primary: StartedMember;
  let replica: StartedMember;
  let builder: LocalBackend;

  const context = async (): Promise<FaultContext> => {
    const status = await topology.status();
    return { backend, topology, resolve: (group) => resolveTarget(group, status, topology.members()) };
  };
  /** The fault injected with its step keys as a scenario writes them, parsed by its own schema. */
  const inject = async (name: FaultName, written: Record<string, unknown>) => {
    const fault = faults[name];
    const options = fault.options.parse({ between: [["replicas"], ["primary"]], ...written });
    return (await fault.inject(["n1", "n2"], await context(), options)) as Healable;
  };

  /** psql's argv: one session to `host` running each statement in turn. */
  const psqlArgv = (host: string, statements: string[], flags: string[] = []) => [
    `${backend.stack.postgresBin}/psql`,
    "-X",
    ...flags,
    "-h",
    host,
    "-U",
    "postgres",
    "-d",
    "postgres",
    ...statements.flatMap((s) => ["-c", s]),
  ];
  /** psql from the replica's own host to the primary, timed. */
  const psql = (statements: string[]) =>
    replica.exec(psqlArgv(primary.address, ["\\timing on", ...statements]), {
      user: "postgres",
      env: {
        ...memberEnv(replica, backend.stack.postgresBin),
        PGPASSWORD: password,
        PGCONNECT_TIMEOUT: "5",
      },
    });
  /** A number the primary answers on its own host over loopback (never proxied). */
  const askPrimary = async (sql: string) => {
    const result = await primary.exec(psqlArgv("127.0.0.1", [sql], ["-At"]), {
      user: "postgres",
      env: { ...memberEnv(primary, backend.stack.postgresBin), PGPASSWORD: password },
    });
    expect(result.code, result.stderr).toBe(0);
    return Number(result.stdout.trim());
  };
  const timings = (stdout: string) => [...stdout.matchAll(/^Time: ([\d.]+) ms/gm)].map((m) => Number(m[1]));
  /** Round trips of `SELECT 1` over one connection opened now (after the fault, so it is proxied). */
  const roundTrips = async () => {
    const result = await psql(Array.from({ length: 12 }, () => "SELECT 1"));
    expect(result.code, result.stderr).toBe(0);
    return timings(result.stdout).slice(2); // the first ones pay for catalogue caches
  };
  /** kbit/s of a 400 kB result from the primary to the replica's host. */
  const BYTES = 400_000;
  const transferRate = async () => {
    const result = await psql([`SELECT repeat('x', ${BYTES})`]);
    expect(result.code, result.stderr).toBe(0);
    const [ms] = timings(result.stdout);
    return (BYTES * 8) / (ms as number);
  };
  /** Replicas streaming from the primary. */
  const streaming = () => askPrimary("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'");
  const inside = async (member: StartedMember, argv: string[]) => (await member.exec(argv)).stdout;
  const members = () => patroni.members(scenario).map((m) => backend.member(m.name));
  const healthy = () =>
    pollUntil(async () => ((await topology.status()).healthy ? true : undefined), 90_000, 500);

  beforeAll(async () => {
    builder = new LocalBackend(runId);
    backend = await builder.start(
      patroni.members(scenario).map(({ name }) => ({ name, ports: patroni.harnessPorts })),
    );
    topology = patroni.create({ backend, scenario, runId, password });
    await topology.start();
    expect(await healthy()).toBe(true);
    const status = await topology.status();
    primary = backend.member(status.primary as string);
    replica = backend.member(status.replicas[0] as string);
  });

  afterAll(async () => {
    await builder?.destroy();
  });

  it("latency: adds the asked round-trip time, ± jitter, also to the replication connection", async () => {
    const before = median(await roundTrips());
    const active = await inject("latency", { delay: "200ms", jitter: "40ms" });
    let healed = false;
    try {
      const during = await roundTrips();
      const added = median(during) - before;
      console.log(
        `latency: baseline ${before.toFixed(2)} ms, during ${during.map((t) => t.toFixed(0)).join(" ")} ms, added median ${added.toFixed(1)} ms (asked 200 ± 40)`,
      );
      expect(added).toBeGreaterThan(160);
      expect(added).toBeLessThan(240);
      for (const t of during) {
        expect(t - before).toBeGreaterThan(200 - 40 - 10);
        expect(t - before).toBeLessThan(200 + 40 + 20);
      }
      expect(Math.max(...during) - Math.min(...during)).toBeGreaterThan(5);
      // Toxiproxy runs in both members (both ways) and is no process of the system under test.
      expect(instrumentsOf(runId)).toHaveLength(2);
      for (const member of [primary, replica]) {
        expect((await member.processes()).filter((p) => p.command.includes("toxiproxy"))).toEqual([]);
      }
      // The walreceiver's connection, reset at injection, came back through the proxy on the replica:
      // its socket still names the primary (the DNAT is transparent), the proxy's side shows it.
      const throughProxy = await pollUntil(
        async () => {
          const established = await inside(replica, ["ss", "-Htn", "state", "established"]);
          const proxied = new RegExp(
            `^\\S+\\s+\\S+\\s+${replica.address}:2\\d{4}\\s+${replica.address}:\\d+`,
            "m",
          );
          return proxied.test(established) ? true : undefined;
        },
        15_000,
        250,
      );
      expect(throughProxy).toBe(true);
      await active.heal("repair");
      healed = true;
      const after = median(await roundTrips());
      console.log(`latency healed: ${after.toFixed(2)} ms`);
      expect(after - before).toBeLessThan(20);
      expect(instrumentsOf(runId)).toEqual([]);
      for (const member of [primary, replica]) {
        expect(await inside(member, ["nft", "list", "tables"])).not.toMatch(/pgchaos_proxy/);
      }
    } finally {
      if (!healed) await active.heal("repair");
    }
  });

  it("bandwidth: holds a transfer near kbps, only on the link, and heals", async () => {
    await healthy();
    const before = await transferRate();
    const active = await inject("bandwidth", { between: [["primary"], ["replicas"]], kbps: 2000 });
    let healed = false;
    try {
      const during = await transferRate();
      console.log(
        `bandwidth: ${Math.round(before)} kbit/s before, ${Math.round(during)} kbit/s during (asked 2000)`,
      );
      expect(during).toBeGreaterThan(2000 * 0.8);
      expect(during).toBeLessThan(2000 * 1.2);
      expect(await inside(primary, ["tc", "qdisc", "show", "dev", "eth0"])).toMatch(/htb 1: root/);
      // Only the link: the DCS is reached at full speed (one etcd member is not shaped).
      const [dcs] = (await context()).resolve("dcs");
      expect(await inside(backend.member(dcs as string), ["tc", "qdisc", "show", "dev", "eth0"])).not.toMatch(
        /htb/,
      );
      await active.heal("repair");
      healed = true;
      const after = await transferRate();
      console.log(`bandwidth healed: ${Math.round(after)} kbit/s`);
      expect(after).toBeGreaterThan(2000 * 5);
      for (const member of members()) {
        expect(await inside(member, ["tc", "qdisc", "show", "dev", "eth0"])).not.toMatch(/htb/);
      }
    } finally {
      if (!healed) await active.heal("repair");
    }
  });

  it("reset-peer: every connection the replica opens to the primary is reset, replication too", async () => {
    await healthy();
    const active = await inject("reset-peer", { direction: "one-way" });
    let healed = false;
    try {
      const refused = await psql(["SELECT 1"]);
      console.log(`reset-peer: psql exited ${refused.code}: ${refused.stderr.trim().split("\n")[0]}`);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/reset by peer|server closed the connection/i);
      // The walreceiver's session was reset and cannot come back: the primary has no streaming replica.
      const cut = await pollUntil(async () => ((await streaming()) === 0 ? true : undefined), 15_000, 250);
      expect(cut).toBe(true);
      await active.heal("repair");
      healed = true;
      const after = await psql(["SELECT 1"]);
      expect(after.code, after.stderr).toBe(0);
      expect(await healthy()).toBe(true);
      expect(instrumentsOf(runId)).toEqual([]);
    } finally {
      if (!healed) await active.heal("repair");
    }
  });

  it("latency from the clients: the harness's own new and established connections pay it, inside the member", async () => {
    /** SELECT 1 round trips from the harness's host over one connection, opened now. */
    const fromHarness = async () => {
      const result = await run([
        "env",
        `PGPASSWORD=${password}`,
        "PGCONNECT_TIMEOUT=5",
        ...psqlArgv(primary.address, ["\\timing on", ...Array.from({ length: 10 }, () => "SELECT 1")]),
      ]);
      expect(result.code, result.stderr).toBe(0);
      return median(timings(result.stdout).slice(2));
    };
    const before = await fromHarness();
    const fault = await inject("latency", {
      between: [["clients"], ["primary"]],
      direction: "one-way",
      delay: "150ms",
    });
    let during: number;
    let replicaRoundTrips: number;
    try {
      // Only the primary holds a proxy (inbound); the replica's own connections are untouched.
      const instruments = instrumentsOf(runId);
      expect(instruments).toHaveLength(1);
      expect(instruments[0]).toContain(`/${primary.name}/`);
      expect(await inside(primary, ["nft", "list", "ruleset"])).toContain("hook prerouting");
      during = await fromHarness();
      replicaRoundTrips = median(await roundTrips());
    } finally {
      await fault.heal("repair");
    }
    const after = await fromHarness();
    console.log(
      `clients → primary latency 150 ms: psql round trip ${before.toFixed(2)} → ${during.toFixed(2)} → ${after.toFixed(2)} ms; replica → primary during it ${replicaRoundTrips.toFixed(2)} ms`,
    );
    expect(during - before).toBeGreaterThan(150 * 0.8);
    expect(during - before).toBeLessThan(150 * 1.2);
    expect(replicaRoundTrips).toBeLessThan(50);
    expect(after).toBeLessThan(50);
    expect(instrumentsOf(runId)).toEqual([]);
    expect(await inside(primary, ["nft", "list", "ruleset"])).not.toContain("prerouting");
  });

  it("slow-close: a client that dies stays connected for the server until the delay has passed", async () => {
    /** Sessions of an application on the primary. */
    const sessions = (name: string) =>
      askPrimary(`SELECT count(*) FROM pg_stat_activity WHERE application_name = '${name}'`);
    let probes = 0;
    /**
     * Seconds the primary keeps the session of a client killed mid-query (no Terminate message,
     * only the kernel's FIN), the backend checking its socket every 100 ms.
     */
    const lingering = async () => {
      const name = `pgchaos-slow-close-${++probes}`;
      const client = spawn(
        `${backend.stack.postgresBin}/psql`,
        [
          "-X",
          "-h",
          primary.address,
          "-U",
          "postgres",
          "-c",
          "SET client_connection_check_interval = '100ms'; SELECT pg_sleep(60)",
        ],
        { env: { ...process.env, PGPASSWORD: password, PGAPPNAME: name }, stdio: "ignore" },
      );
      const exited = new Promise((resolve) => client.once("exit", resolve));
      try {
        expect(
          await pollUntil(async () => ((await sessions(name)) === 1 ? true : undefined), 10_000, 100),
        ).toBe(true);
      } finally {
        client.kill("SIGKILL");
        await exited;
      }
      const died = Date.now();
      const gone = await pollUntil(
        async () => ((await sessions(name)) === 0 ? Date.now() : undefined),
        15_000,
        100,
      );
      expect(gone).toBeDefined();
      return ((gone as number) - died) / 1000;
    };
    const before = await lingering();
    const fault = await inject("slow-close", {
      between: [["clients"], ["primary"]],
      direction: "one-way",
      delay: "3s",
    });
    let during: number;
    try {
      during = await lingering();
    } finally {
      await fault.heal("repair");
    }
    const after = await lingering();
    console.log(
      `slow-close 3 s: the session outlived its client by ${before.toFixed(2)} s before, ${during.toFixed(2)} s during, ${after.toFixed(2)} s after`,
    );
    expect(before).toBeLessThan(1);
    expect(during).toBeGreaterThan(3 * 0.8);
    expect(during).toBeLessThan(3 * 1.2 + 1);
    expect(after).toBeLessThan(1);
    expect(instrumentsOf(runId)).toEqual([]);
  });

  it("refuses bandwidth on the clients' links, and undoes nothing it did not do", async () => {
    await expect(inject("bandwidth", { between: [["clients"], ["primary"]], kbps: 100 })).rejects.toThrow(
      /clients/,
    );
    expect(instrumentsOf(runId)).toEqual([]);
  });

  it("leaves nothing after teardown: no Toxiproxy, no namespace (its nft tables and qdiscs go with it)", async () => {
    // A fault left in force, as a crashed run would leave it: teardown must still remove it all.
    await inject("latency", { delay: "50ms" });
    await inject("bandwidth", { kbps: 1000 });
    expect(instrumentsOf(runId)).toHaveLength(2);
    await builder.destroy();
    expect(instrumentsOf(runId)).toEqual([]);
    expect(leftovers(runId)).toEqual([]);
    expect(existsSync(`/run/pgchaos/${runId}.json`)).toBe(false);
  });
});
