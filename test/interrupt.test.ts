import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, leftovers, pgchaos } from "./helpers.ts";

/** Starts a real run, waits for its workload, then sends it a signal (SIGINT as Ctrl-C would). */
function interruptedRun(
  signal: NodeJS.Signals,
  extraArgs: string[] = [],
): Promise<{ code: number | null; stdout: string; runId: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        join(ROOT, "bin/pgchaos.js"),
        "run",
        join(ROOT, "scenarios/kill-primary.yaml"),
        "--topology",
        "repmgr",
        "--out",
        "/tmp/pgchaos-interrupt",
        ...extraArgs,
      ],
      { cwd: ROOT },
    );
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes("workload running") && !child.killed) child.kill(signal);
    });
    child.on("close", (code) =>
      resolve({ code, stdout, runId: /\(run ([0-9a-f]{6})\)/.exec(stdout)?.[1] ?? "" }),
    );
  });
}

describe.each([["local"], ["docker"]])("a run on the %s backend", (backend) => {
  it("interrupted with SIGINT tears everything down and exits 130", async () => {
    const { code, stdout, runId } = await interruptedRun("SIGINT", ["--backend", backend]);
    expect(stdout).toContain("SIGINT: tearing down");
    expect(code).toBe(130);
    expect(leftovers(runId)).toEqual([]);
  });

  it("killed with SIGKILL leaves what pgchaos cleanup then removes", async () => {
    const { code, runId } = await interruptedRun("SIGKILL", ["--backend", backend]);
    expect(code).toBeNull();
    expect(leftovers(runId).length).toBeGreaterThan(0);
    const cleanup = pgchaos(["cleanup"]);
    expect(cleanup.code).toBe(0);
    expect(cleanup.stdout).toContain(`run ${runId}: removed`);
    expect(leftovers(runId)).toEqual([]);
  });
});
