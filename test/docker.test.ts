import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  ROOT,
  ackedMs,
  faultWindows,
  harnessProblems,
  historyOf,
  leftovers,
  median,
  pgchaos,
  resultOf,
  runScenarioFile,
} from "./helpers.ts";

const TOPOLOGIES = ["patroni", "pg_auto_failover", "repmgr"];

// The same scenario file as on the local backend: only the backend (and the stack) differ.
describe("kill-primary on the Docker backend, Debian 12's stack (the local backend's versions)", () => {
  const run = runScenarioFile("kill-primary.yaml", ["--backend", "docker"]);

  it("passes on every HA manager, side by side, and leaves nothing behind", () => {
    expect(run.cli.stdout).toContain("3 passed, 0 failed");
    expect(run.cli.code).toBe(0);
    for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
  });

  for (const topology of TOPOLOGIES) {
    it(`${topology}: one promotion, nothing lost, RTO within the expectation, on pgchaos/node:bookworm`, () => {
      const result = resultOf(run, topology) as ReturnType<typeof resultOf> & {
        backend: string;
        stack: { name: string; image: { name: string; id: string } | null };
      };
      expect(result.backend).toBe("docker");
      expect(result.stack.image?.name).toBe("pgchaos/node:bookworm");
      expect(result.stack.image?.id).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(result.versions.postgresql).toContain("15.");
      expect(result.problems).toEqual([]);
      expect(result.figures.promotions).toBe(1);
      expect(result.figures.lost_writes).toBe(0);
      expect(result.figures.rto_s as number).toBeGreaterThan(1);
      expect(result.figures.rto_s as number).toBeLessThan(30);
      expect(result.verdict).toBe("pass");
    });
  }
});

describe("kill-primary on the trixie stack: PostgreSQL 17, Patroni 4, pg_auto_failover 2.2, repmgr 5.5", () => {
  const run = runScenarioFile("kill-primary.yaml", ["--backend", "docker", "--stack", "trixie"]);

  for (const topology of TOPOLOGIES) {
    it(`${topology}: passes and records the versions that ran`, () => {
      const result = resultOf(run, topology);
      expect(result.versions.postgresql).toContain("17.12");
      const managerVersion = { patroni: "4.0.7", pg_auto_failover: "2.2", repmgr: "5.5.0" }[
        topology
      ] as string;
      expect(Object.values(result.versions).join(" ")).toContain(managerVersion);
      expect(result.problems).toEqual([]);
      expect(result.figures.lost_writes).toBe(0);
      expect(result.figures.promotions).toBe(1);
      expect(result.verdict).toBe("pass");
    });
  }
  it("leaves nothing behind", () => {
    for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
  });
});

describe("link faults and disk-full on the Docker backend, measured from the writes", () => {
  const run = runScenarioFile("test/scenarios/docker-links-disk.yaml");

  it("injects and heals each fault in turn; nobody is promoted and nothing is lost", () => {
    const result = resultOf(run, "patroni");
    expect(result.backend).toBe("docker");
    expect(harnessProblems(result)).toEqual([]);
    expect(faultWindows(result).map((w) => w.fault)).toEqual([
      "latency",
      "latency",
      "bandwidth",
      "reset-peer",
      "disk-full",
    ]);
    expect(result.figures.lost_writes).toBe(0);
    expect(result.figures.promotions).toBe(0);
    expect(result.verdict).toBe("pass");
  });

  it("latency: a sync commit pays the primary ↔ standby round trip; the clients' link slows every write", () => {
    const result = resultOf(run, "patroni");
    const history = historyOf(run, "patroni");
    const [replication, clients] = faultWindows(result);
    if (!replication || !clients) throw new Error("no latency windows");
    const before = median(ackedMs(history, 0, replication.from_ns));
    // The injection resets the replication connection once: Patroni drops the standby from
    // synchronous_standby_names for a loop or two. Judge the window's second half.
    const half = (w: typeof replication) => ackedMs(history, (w.from_ns + w.to_ns) / 2, w.to_ns);
    const synchronous = median(half(replication));
    const fromClients = median(half(clients));
    console.log(
      `docker latency: commit p50 ${before.toFixed(1)} ms before, ${synchronous.toFixed(1)} ms with 200 ms primary ↔ standby, ${fromClients.toFixed(1)} ms with 150 ms clients → primary`,
    );
    expect(synchronous - before).toBeGreaterThan(200 * 0.8);
    expect(synchronous - before).toBeLessThan(200 * 1.2);
    expect(fromClients - before).toBeGreaterThan(150 * 0.8);
    expect(fromClients - before).toBeLessThan(150 * 1.2);
  });

  it("disk-full: commits on the primary fail with ENOSPC while it is full, and succeed after the heal", () => {
    const result = resultOf(run, "patroni");
    const history = historyOf(run, "patroni");
    const full = faultWindows(result).find((w) => w.fault === "disk-full");
    if (!full) throw new Error("no disk-full window");
    const refused = history.filter(
      (w) => w.outcome === "fail" && w.invoke_ns >= full.from_ns && w.invoke_ns <= full.to_ns,
    );
    // ENOSPC, most of them; a WAL write that hits it makes PostgreSQL restart, which ends connections too.
    const enospc = refused.filter((w) => /No space left on device/.test(w.error ?? ""));
    expect(enospc.length).toBeGreaterThan(0);
    expect(enospc.length).toBeGreaterThanOrEqual(refused.length * 0.9);
    expect(ackedMs(history, full.to_ns, Number.POSITIVE_INFINITY).length).toBeGreaterThan(0);
  });

  it("leaves nothing behind: no container, network, or Toxiproxy", () => {
    for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
  });
});

describe("the Docker backend without root", () => {
  it("runs a real scenario as a user whose only privilege is the docker group", () => {
    const out = mkdtempSync(join(tmpdir(), "pgchaos-nonroot-"));
    chmodSync(out, 0o777);
    const result = pgchaos(
      [
        "run",
        join(ROOT, "scenarios/kill-primary.yaml"),
        "--topology",
        "repmgr",
        "--backend",
        "docker",
        "--out",
        out,
      ],
      { asUser: "nobody", group: "docker" },
    );
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("PASS  kill-primary · repmgr · docker");
    expect(result.code).toBe(0);
    const runId = /\(run ([0-9a-f]{6})\)/.exec(result.stdout)?.[1] as string;
    expect(leftovers(runId)).toEqual([]);
  });
});

describe("a failing run on the Docker backend", () => {
  const run = runScenarioFile("test/scenarios/expect-no-promotion.yaml", ["--backend", "docker"]);

  it("fails its verdict with exit 1 and leaves nothing behind", () => {
    expect(resultOf(run, "patroni").verdict).toBe("fail");
    expect(run.cli.code).toBe(1);
    for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
  });
});

describe("a user's own image (--image)", () => {
  const image = `pgchaos-test/no-patroni:${process.pid}`;
  const run = (name: string) =>
    pgchaos([
      "run",
      join(ROOT, "scenarios/kill-primary.yaml"),
      "--topology",
      "patroni",
      "--backend",
      "docker",
      "--image",
      name,
    ]);

  it("is checked against the contract up front: one line naming what it lacks, exit 2, nothing left", () => {
    const built = spawnSync(
      "sh",
      [
        "-c",
        `printf 'FROM pgchaos/node:bookworm\nRUN rm /usr/bin/patroni\n' | DOCKER_BUILDKIT=0 docker build -q -t ${image} -`,
      ],
      {
        encoding: "utf8",
      },
    );
    expect(built.status, built.stderr).toBe(0);
    try {
      const result = run(image);
      expect(result.code).toBe(2);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(result.stderr).toContain(
        `image ${image} lacks /usr/bin/patroni — install patroni python3-psycopg2`,
      );
      const runId = /\(run ([0-9a-f]{6})\)/.exec(result.stdout)?.[1] as string;
      expect(leftovers(runId)).toEqual([]);
    } finally {
      spawnSync("docker", ["rmi", "-f", image]);
    }
  });

  it("without PostgreSQL at all is refused in one line", () => {
    const result = run("pgchaos/base:bookworm");
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/has no (PostgreSQL|user postgres)/);
  });
  it("that is missing fails in one line naming it, exit 2, nothing left", () => {
    const result = run("pgchaos/node:does-not-exist");
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toContain("image pgchaos/node:does-not-exist not found on the Docker engine");
    const runId = /\(run ([0-9a-f]{6})\)/.exec(result.stdout)?.[1] as string;
    expect(leftovers(runId)).toEqual([]);
  });
});
