import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StartedBackend, StartedMember } from "../harness/backend/backend.ts";
import { loopDevicesOf, mountedPaths } from "../harness/backend/disk.ts";
import { LocalBackend, teardown } from "../harness/backend/local.ts";
import { listStates } from "../harness/backend/state.ts";
import type { FaultContext, Healable } from "../harness/faults/fault.ts";
import { faults } from "../harness/faults/index.ts";
import type { Topology } from "../harness/topology/topology.ts";
import { historyOf, leftovers, resultOf, runScenarioFile } from "./helpers.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A write and fsync of 8 kB on the member's disk as postgres: what PostgreSQL does on a commit. */
function write(member: StartedMember, name: string, timeoutMs = 30_000) {
  const argv = ["dd", "if=/dev/zero", `of=${member.dir}/${name}`, "bs=8k", "count=1", "conv=fsync"];
  return member.exec(argv, { user: "postgres", timeoutMs });
}

// No cluster: the backend alone, one member with a 256 MB disk, the faults driven directly.
describe("a member's own disk on the local backend: created, filled, frozen, removed", () => {
  const runId = randomBytes(3).toString("hex");
  const backend = new LocalBackend(runId, { diskBytes: 256 * 2 ** 20 });
  let started: StartedBackend;
  let member: StartedMember;
  let context: FaultContext;

  beforeAll(async () => {
    started = await backend.start([{ name: "n1", ports: [] }]);
    member = started.member("n1");
    context = { backend: started, topology: {} as Topology, resolve: () => [] };
  });
  afterAll(() => backend.destroy());

  it("mounts an ext4 filesystem of the asked size on the member's directory, empty and owned by postgres", async () => {
    const mount = spawnSync("findmnt", ["-n", "-o", "SOURCE,FSTYPE,SIZE", "--mountpoint", member.dir], {
      encoding: "utf8",
    }).stdout;
    expect(mount).toMatch(/^\/dev\/loop\d+ +ext4 +2\d\d(\.\d)?M/);
    const postgresUid = Number(spawnSync("id", ["-u", "postgres"], { encoding: "utf8" }).stdout.trim());
    const stat = statSync(member.dir);
    expect(stat.uid).toBe(postgresUid);
    expect(stat.mode & 0o777).toBe(0o700);
    expect((await member.exec(["ls", "-A", member.dir])).stdout).toBe("");
    // Recorded for a later cleanup, the loop device found again from its backing file.
    const state = JSON.parse(readFileSync(`/run/pgchaos/${runId}.json`, "utf8"));
    expect(state.mounts).toEqual([member.dir]);
    expect(state.backing_files).toEqual([`${member.dir}.img`]);
    expect(await loopDevicesOf(`${member.dir}.img`)).toHaveLength(1);
  });

  it("disk-full: fills it in well under a second, writes fail with ENOSPC and keep failing when room is freed, heal frees it", async () => {
    // Room someone else frees during the fault (a checkpoint removing old WAL): the fault takes it back.
    await member.exec(["dd", "if=/dev/zero", `of=${member.dir}/spare`, "bs=1M", "count=20"], {
      user: "postgres",
    });
    const begun = performance.now();
    const active = (await faults["disk-full"].inject(["n1"], context, {})) as Healable;
    const fillMs = performance.now() - begun;
    expect(active.problem).toBeUndefined();
    expect(fillMs).toBeLessThan(5000);
    console.log(`disk-full: 256 MB filesystem full after ${fillMs.toFixed(0)} ms`);
    const refused = await write(member, "a");
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("No space left on device");
    await member.exec(["rm", "-f", `${member.dir}/spare`, `${member.dir}/a`]);
    await sleep(2500);
    const stillRefused = await write(member, "b");
    expect(stillRefused.stderr).toContain("No space left on device");
    await active.heal("repair");
    expect((await write(member, "c")).code).toBe(0);
    expect((await member.exec(["ls", "-A", member.dir])).stdout.split("\n").filter(Boolean).sort()).toEqual([
      "b",
      "c",
    ]);
    await member.exec(["rm", "-f", `${member.dir}/b`, `${member.dir}/c`]);
  });

  it("io-freeze: a write+fsync blocks while frozen and lands right after the thaw; reads still work", async () => {
    await member.exec(["sh", "-c", `echo before > ${member.dir}/r`]);
    const active = (await faults["io-freeze"].inject(["n1"], context, {})) as Healable;
    let finishedAt = 0;
    const frozenAt = performance.now();
    const blocked = write(member, "w", 120_000).then((result) => {
      finishedAt = performance.now();
      return result;
    });
    await sleep(2000);
    expect(finishedAt).toBe(0);
    expect((await member.readFile(`${member.dir}/r`))?.trim()).toBe("before");
    const thawAt = performance.now();
    await active.heal("repair");
    const result = await blocked;
    expect(result.code).toBe(0);
    expect(finishedAt).toBeGreaterThan(thawAt);
    console.log(
      `io-freeze: write+fsync blocked ${((finishedAt - frozenAt) / 1000).toFixed(1)} s, landed ${(finishedAt - thawAt).toFixed(0)} ms after the thaw`,
    );
    await member.exec(["rm", "-f", `${member.dir}/w`, `${member.dir}/r`]);
  });

  it("a crashed harness's cleanup thaws a frozen disk, ends the writer blocked on it, and removes everything", async () => {
    expect((await member.exec(["fsfreeze", "-f", member.dir])).code).toBe(0);
    // A process stuck in D state on the frozen filesystem, as PostgreSQL's would be.
    await member.spawn({
      argv: ["dd", "if=/dev/zero", `of=${member.dir}/stuck`, "bs=8k", "count=1", "conv=fsync"],
      user: "postgres",
      env: {},
      cwd: "/",
      logFile: "/dev/null",
    });
    await sleep(500);
    const state = listStates().find((s) => s.run_id === runId);
    expect(state).toBeDefined();
    // What `pgchaos cleanup` does with the state file of a run whose harness is gone.
    await teardown(state as NonNullable<typeof state>);
    expect(mountedPaths().has(member.dir)).toBe(false);
    expect(await loopDevicesOf(`${member.dir}.img`)).toEqual([]);
    expect(existsSync(`${member.dir}.img`)).toBe(false);
    expect(leftovers(runId)).toEqual([]);
  });
});

// A real Patroni cluster: what the two faults do to PostgreSQL on the primary.
describe("disk faults on a real Patroni primary", () => {
  const run = runScenarioFile("test/scenarios/disk-faults.yaml");

  const faultEvent = (fault: string, phase: string) => {
    type FaultEvent = {
      kind: string;
      fault: string;
      phase: string;
      at_ns: number;
      requested_ns: number;
      members: string[];
    };
    const timeline = resultOf(run, "patroni").timeline as unknown as FaultEvent[];
    const event = timeline.find((e) => e.kind === "fault" && e.fault === fault && e.phase === phase);
    if (!event) throw new Error(`no ${phase} of ${fault}`);
    return event;
  };

  it("injects and heals both faults with no problem (each verified its own effect) and ends healthy", () => {
    const result = resultOf(run, "patroni");
    expect(result.problems).toEqual([]);
    expect(result.figures.lost_writes).toBe(0);
    expect(result.verdict).toBe("pass");
  });

  it("disk-full: writes on the primary fail with 'No space left on device', and succeed again after the heal", () => {
    const full = faultEvent("disk-full", "inject");
    const freed = faultEvent("disk-full", "heal");
    const during = historyOf(run, "patroni").filter(
      (op) => op.invoke_ns > full.at_ns + 1e9 && op.complete_ns < freed.requested_ns,
    );
    const enospc = during.filter(
      (op) => op.outcome === "fail" && op.error?.includes("No space left on device"),
    );
    expect(enospc.length).toBeGreaterThan(0);
    // PostgreSQL may free room itself (a checkpoint recycling WAL) before the fault's next top-up, a
    // second later: a few commits land then, as they would on a real full disk. Almost none may.
    const landed = during.filter((op) => op.outcome === "ok" && op.node === full.members[0]);
    console.log(
      `disk-full: ${enospc.length} writes refused with ENOSPC, ${landed.length} acknowledged on the full primary`,
    );
    expect(landed.length).toBeLessThan(during.length * 0.05);
    const after = historyOf(run, "patroni").filter((op) => op.invoke_ns > freed.at_ns && op.outcome === "ok");
    expect(after.length).toBeGreaterThan(0);
  });

  it("io-freeze: no commit on the frozen primary is acknowledged until the thaw, commits resume after it", () => {
    const frozen = faultEvent("io-freeze", "inject");
    const thawed = faultEvent("io-freeze", "heal");
    const history = historyOf(run, "patroni");
    const acknowledgedWhileFrozen = history.filter(
      (op) =>
        op.outcome === "ok" &&
        op.node === frozen.members[0] &&
        op.complete_ns > frozen.at_ns + 1e9 &&
        op.complete_ns < thawed.requested_ns,
    );
    expect(acknowledgedWhileFrozen).toEqual([]);
    expect(history.filter((op) => op.invoke_ns > thawed.at_ns && op.outcome === "ok").length).toBeGreaterThan(
      0,
    );
  });

  it("leaves no loop device, mount, backing file or anything else behind", () => {
    expect(run.runIds).toHaveLength(1);
    for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
  });
});
