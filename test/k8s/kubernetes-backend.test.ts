import { describe, expect, it } from "vitest";
import {
  type ResultJson,
  harnessProblems,
  historyOf,
  kubeletSysctls,
  leftovers,
  pgchaos,
  resultOf,
  runScenarioFile,
} from "../helpers.ts";

/**
 * The kubernetes backend (issue 27, scope 2): every member a Pod on a Kubernetes node the run
 * starts (docker/kube-node, docs/kubernetes-node-lab.md) and removes. The repmgr topology runs in
 * the Pods unchanged, through the API server's exec. Needs the node image (bash
 * docker/kube-node/build.sh) and pgchaos/node:<stack> (bash scripts/ensure-docker.sh <stack>).
 */

interface PodResult extends ResultJson {
  members: { name: string; kind: string; address: string }[];
  harness: { backend_start_s: number; cluster_start_s: number; teardown_s: number } | null;
}

describe("kill-primary on repmgr, every member a Pod", () => {
  const sysctlsBefore = kubeletSysctls();
  const run = runScenarioFile("kill-primary.yaml", ["--topology", "repmgr", "--backend", "kubernetes"]);
  const result = () => resultOf(run, "repmgr") as PodResult;

  it("passes, exit 0, on the kubernetes backend", () => {
    expect(run.cli.code, run.cli.stdout.slice(-2000) + run.cli.stderr).toBe(0);
    expect(result().problems).toEqual([]);
    expect(result().verdict).toBe("pass");
    expect(result().backend).toBe("kubernetes");
    // Pod addresses, on the node's Pod CIDR.
    for (const member of result().members) expect(member.address).toMatch(/^10\.244\.0\.\d+$/);
  });

  it("has exactly one promotion, from repmgr's own events", () => {
    expect(result().figures.promotions).toBe(1);
    expect(result().promotions).toHaveLength(1);
    expect(result().promotions[0]?.source).toBe("repmgr history");
    expect(result().promotions[0]?.timeline).toBe(2);
    const killed = result().timeline.find((e) => e.kind === "fault" && e.phase === "inject")?.members?.[0];
    expect(result().promotions[0]?.member).not.toBe(killed);
    expect(result().figures.split_brain).toBe(false);
  });

  it("loses no acknowledged write", () => {
    expect(result().figures.lost_writes).toBe(0);
    expect(result().figures.wal_loss_bytes).toBe(0);
    expect(result().figures.acknowledged_writes as number).toBeGreaterThan(100);
    expect(historyOf(run, "repmgr").some((op) => op.outcome === "ok")).toBe(true);
  });

  it("leaves nothing behind: node container, Pods, network, volume; host sysctls as they were", () => {
    for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
    expect(kubeletSysctls()).toEqual(sysctlsBefore);
  });
});

describe("isolate-primary on repmgr: the partition is nftables in the primary's own Pod network namespace", () => {
  const run = runScenarioFile("isolate-primary.yaml", ["--topology", "repmgr", "--backend", "kubernetes"]);
  const result = () => resultOf(run, "repmgr") as PodResult;

  // The same finding as on the local and Docker backends (README, "Docker backend"): repmgr does not
  // fence, so the isolated n1 stays writable beside the promoted replica for the rest of the run.
  it("gives the verdict the local and Docker backends give: one promotion, nothing lost, a dual primary", () => {
    expect(harnessProblems(result())).toEqual([]);
    expect(result().verdict).toBe("fail");
    expect(result().figures.promotions).toBe(1);
    expect(result().promotions[0]?.source).toBe("repmgr history");
    expect(result().figures.lost_writes).toBe(0);
    expect(result().figures.rto_s as number).toBeGreaterThan(5);
    expect(result().figures.rto_s as number).toBeLessThan(30);
    expect(result().figures.dual_primary_s as number).toBeGreaterThan(100);
    const failed = result()
      .expectations.filter((e) => !e.pass)
      .map((e) => e.key);
    expect(failed).toEqual(["dual_primary", "diverged"]);
  });

  it("ran its helpers inside the Pods: the group beside the primary wrote and read there", () => {
    expect(result().figures.reads as number).toBeGreaterThan(1000);
    const beside = (result().figures.groups as unknown as Record<string, { acknowledged_writes: number }>)[
      "app-beside-primary"
    ];
    expect(beside?.acknowledged_writes).toBeGreaterThan(100);
  });

  it("leaves nothing behind", () => {
    for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
  });
});

describe("what the kubernetes backend cannot do yet is refused at validation", () => {
  it("a link fault (Toxiproxy in the Pod) is a one-line error naming the backend", () => {
    const cli = pgchaos(["validate", "scenarios/latency-primary-dcs.yaml", "--backend", "kubernetes"]);
    expect(cli.code).not.toBe(0);
    expect(cli.stderr.trim().split("\n")).toHaveLength(1);
    expect(cli.stderr).toMatch(/needs a backend that can proxy .*backend kubernetes cannot/);
  });
});
