import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, interruptedRun, leftovers, pgchaos } from "./helpers.ts";

/** kill-primary on repmgr, interrupted once its workload runs. */
const KILL_PRIMARY = [
  join(ROOT, "scenarios/kill-primary.yaml"),
  "--topology",
  "repmgr",
  "--out",
  "/tmp/pgchaos-interrupt",
];

describe.each([["local"], ["docker"]])("a run on the %s backend", (backend) => {
  it("interrupted with SIGINT tears everything down and exits 130", async () => {
    const { code, stdout, runId } = await interruptedRun("SIGINT", [...KILL_PRIMARY, "--backend", backend]);
    expect(stdout).toContain("SIGINT: tearing down");
    expect(code).toBe(130);
    expect(leftovers(runId)).toEqual([]);
  });

  it("killed with SIGKILL leaves what pgchaos cleanup then removes", async () => {
    const { code, runId } = await interruptedRun("SIGKILL", [...KILL_PRIMARY, "--backend", backend]);
    expect(code).toBeNull();
    expect(leftovers(runId).length).toBeGreaterThan(0);
    const cleanup = pgchaos(["cleanup"]);
    expect(cleanup.code).toBe(0);
    expect(cleanup.stdout).toContain(`run ${runId}: removed`);
    expect(leftovers(runId)).toEqual([]);
  });
});
