import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, leftovers } from "./helpers.ts";

/** Starts a real run, waits for its workload, then interrupts it as Ctrl-C would. */
function interruptedRun(): Promise<{ code: number | null; stdout: string }> {
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
      ],
      { cwd: ROOT },
    );
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes("workload running") && !child.killed) child.kill("SIGINT");
    });
    child.on("close", (code) => resolve({ code, stdout }));
  });
}

describe("a run interrupted with SIGINT", () => {
  it("tears everything down and exits 130", async () => {
    const { code, stdout } = await interruptedRun();
    const runId = /\(run ([0-9a-f]{6})\)/.exec(stdout)?.[1] as string;
    expect(stdout).toContain("SIGINT: tearing down");
    expect(code).toBe(130);
    expect(leftovers(runId)).toEqual([]);
  });
});
