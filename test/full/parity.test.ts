import { describe, expect, it } from "vitest";
import {
  type ScenarioRun,
  harnessProblems,
  leftovers,
  resultOf,
  runScenarioFile,
  writeReportTable,
} from "../helpers.ts";

/**
 * The same scenario files on both backends: the verdict must not depend on where the members live.
 * RTOs differ by run-to-run noise only; the table (reports/parity.md) is what the README quotes.
 */
const SCENARIOS = [
  "kill-primary.yaml",
  "stop-primary.yaml",
  "isolate-primary.yaml",
  "async-data-loss.yaml",
  "sync-data-loss.yaml",
  "rogue-promote.yaml",
];

const rows: string[] = [];
/** patroni-k8s runs on the local backend only (its kube-apiserver is built on this machine). */
const ON_BOTH = ["patroni", "pg_auto_failover", "repmgr"].flatMap((t) => ["--topology", t]);

describe.each(SCENARIOS)("%s on local and docker", (file) => {
  const runs: Record<"local" | "docker", ScenarioRun> = {
    local: runScenarioFile(file, ["--backend", "local", ...ON_BOTH]),
    docker: runScenarioFile(file, ["--backend", "docker", ...ON_BOTH]),
  };

  it("gives the same verdict on every topology, each run complete and nothing left behind", () => {
    for (const topology of runs.local.results.keys()) {
      const [local, docker] = [resultOf(runs.local, topology), resultOf(runs.docker, topology)];
      const figure = (r: typeof local, key: string) => String(r.figures[key] ?? "—");
      rows.push(
        `| ${file.replace(".yaml", "")} | ${topology} | ${local.verdict} | ${docker.verdict} | ${figure(local, "rto_s")} | ${figure(docker, "rto_s")} | ${figure(local, "lost_writes")} / ${figure(docker, "lost_writes")} | ${figure(local, "split_brain")} / ${figure(docker, "split_brain")} |`,
      );
      for (const result of [local, docker]) {
        expect(harnessProblems(result), `${file} on ${topology}`).toEqual([]);
      }
      expect(docker.verdict, `${file} on ${topology}`).toBe(local.verdict);
    }
    expect([...runs.docker.results.keys()].sort()).toEqual([...runs.local.results.keys()].sort());
    for (const run of Object.values(runs))
      for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
  });
});

describe("the parity table", () => {
  it("is written to reports/parity.md", () => {
    writeReportTable(
      "parity.md",
      [
        "scenario",
        "topology",
        "local",
        "docker",
        "RTO local (s)",
        "RTO docker (s)",
        "lost local / docker",
        "split-brain local / docker",
      ],
      rows,
    );
    expect(rows.length).toBeGreaterThan(0);
  });
});
