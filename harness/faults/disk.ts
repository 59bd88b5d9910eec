import { join } from "node:path";
import { z } from "zod";
import type { StartedMember } from "../backend/backend.ts";
import { sleep } from "../common/clock.ts";
import { POSTGRES_USER } from "../topology/members.ts";
import { defineFault } from "./fault.ts";

/** Files the faults put on a member's filesystem, named so nobody mistakes them for the cluster's. */
const FILL = "pgchaos-disk-full.fill";
const TOP_UP = "pgchaos-disk-full.top";
const PROBE = "pgchaos-disk.probe";

/** How often a full filesystem is topped up again, and how long a thawed write may take to land. */
const KEEP_FULL_EVERY_MS = 1000;
const THAWED_WITHIN_MS = 15_000;

/**
 * The member's directory, once it is known to be a filesystem of its own. Filling or freezing
 * whatever holds it otherwise would fill or freeze the host's own disk (fsfreeze of / hangs the machine).
 */
async function ownFilesystem(host: StartedMember, fault: string): Promise<string> {
  const found = await host.exec(["findmnt", "-n", "-o", "SOURCE", "--mountpoint", host.dir]);
  if (found.code !== 0 || found.stdout.trim() === "") {
    throw new Error(`${fault}: ${host.name}'s directory ${host.dir} is not a filesystem of its own`);
  }
  return host.dir;
}

async function freeBytes(host: StartedMember, dir: string): Promise<number> {
  const result = await host.exec(["df", "-B1", "--output=avail", dir]);
  const bytes = Number(result.stdout.trim().split("\n").pop());
  if (result.code !== 0 || !Number.isFinite(bytes)) {
    throw new Error(`df on ${host.name}: ${result.stderr.trim() || result.stdout.trim()}`);
  }
  return bytes;
}

/**
 * Appends zeros until the filesystem refuses (dd's ENOSPC is the expected way for it to end):
 * megabytes first, then the last blocks a 1 MB write no longer fits in.
 */
async function topUp(host: StartedMember, dir: string): Promise<void> {
  for (const bs of ["1M", "4k"]) {
    const argv = [
      "dd",
      "if=/dev/zero",
      `of=${join(dir, TOP_UP)}`,
      `bs=${bs}`,
      "oflag=append",
      "conv=notrunc",
    ];
    await host.exec([...argv, "status=none"], { timeoutMs: 300_000 });
  }
}

/** A small write and fsync as PostgreSQL's own user: what the fault claims to do to the database. */
function probe(host: StartedMember, dir: string, timeoutMs = 30_000) {
  const argv = ["dd", "if=/dev/zero", `of=${join(dir, PROBE)}`, "bs=8k", "count=1", "conv=fsync"];
  return host.exec([...argv, "status=none"], { user: POSTGRES_USER, timeoutMs });
}

/**
 * The member's filesystem filled to the last block: a preallocated file, then zeros until ENOSPC,
 * and kept full until the heal (a checkpoint removing old WAL would otherwise free room at once).
 * Heal deletes the files. The fill runs as root, on a filesystem with no blocks reserved for root.
 */
export const diskFull = defineFault({
  name: "disk-full",
  summary: "disk-full: the member's data filesystem filled (heal: freed)",
  stamp: "end",
  needs: ["disk"],
  heals: true,
  options: z.object({}),
  aim: "target",
  nemesis: () => ({}),
  async inject(members, { backend }) {
    const problems: string[] = [];
    const hosts: { host: StartedMember; dir: string }[] = [];
    for (const member of members) {
      const host = backend.member(member);
      const dir = await ownFilesystem(host, "disk-full");
      hosts.push({ host, dir });
      // fallocate can stop a few blocks short of what df offered (extent metadata); dd takes the rest.
      await host.exec(["fallocate", "-l", String(await freeBytes(host, dir)), join(dir, FILL)]);
      await topUp(host, dir);
      const written = await probe(host, dir);
      await host.exec(["rm", "-f", join(dir, PROBE)]);
      if (written.code === 0) {
        problems.push(
          `a write as ${POSTGRES_USER} on ${member} still succeeded (${await freeBytes(host, dir)} bytes free)`,
        );
      } else if (!written.stderr.includes("No space left on device")) {
        problems.push(`a write on ${member} failed otherwise than with ENOSPC: ${written.stderr.trim()}`);
      }
    }
    let healing = false;
    const keeper = (async () => {
      while (!healing) {
        await sleep(KEEP_FULL_EVERY_MS);
        if (healing) break;
        for (const { host, dir } of hosts) await topUp(host, dir);
      }
    })();
    return {
      members,
      ...(problems.length > 0 ? { problem: problems.join("; ") } : {}),
      async heal() {
        healing = true;
        await keeper;
        for (const { host, dir } of hosts) {
          const removed = await host.exec(["rm", "-f", join(dir, FILL), join(dir, TOP_UP)]);
          if (removed.code !== 0) throw new Error(`rm on ${host.name}: ${removed.stderr.trim()}`);
        }
      },
    };
  },
});

/**
 * fsfreeze of the member's filesystem: every write and fsync there blocks, reads of cached pages
 * still work, the processes stay alive and connected — the "zombie node" of a hung storage volume.
 * A probe write+fsync started at the freeze proves it: it must still be blocked at the thaw and
 * land soon after; either failing is reported as the fault's problem.
 */
export const ioFreeze = defineFault({
  name: "io-freeze",
  summary: "io-freeze: fsfreeze of that filesystem, every write and fsync blocks (heal: thaw)",
  stamp: "end",
  needs: ["disk", "freeze-disk"],
  heals: true,
  options: z.object({}),
  aim: "target",
  nemesis: () => ({}),
  async inject(members, { backend }) {
    const frozen: { host: StartedMember; dir: string; probe: Probe }[] = [];
    try {
      for (const member of members) {
        const host = backend.member(member);
        const dir = await ownFilesystem(host, "io-freeze");
        const result = await host.exec(["fsfreeze", "-f", dir], { timeoutMs: 60_000 });
        if (result.code !== 0) throw new Error(`fsfreeze -f on ${member}: ${result.stderr.trim()}`);
        frozen.push({ host, dir, probe: startProbe(host, dir) });
      }
    } catch (error) {
      // Never leave a filesystem frozen behind a fault the runner does not know about.
      for (const { host, dir } of frozen) await host.exec(["fsfreeze", "-u", dir]);
      throw error;
    }
    const frozenAt = Date.now();
    return {
      members,
      async heal() {
        const problems: string[] = [];
        for (const { host, dir, probe: written } of frozen) {
          const early = written.outcome;
          const result = await host.exec(["fsfreeze", "-u", dir], { timeoutMs: 60_000 });
          if (result.code !== 0) throw new Error(`fsfreeze -u on ${host.name}: ${result.stderr.trim()}`);
          if (early !== "pending") {
            const after = ((written.finishedAt - frozenAt) / 1000).toFixed(1);
            const error = written.error ? ` (${written.error})` : "";
            problems.push(
              `the probe write+fsync on ${host.name} ${early} ${after} s into the freeze${error}`,
            );
            continue;
          }
          await Promise.race([written.done, sleep(THAWED_WITHIN_MS)]);
          if (written.outcome !== "finished") {
            problems.push(
              `the write+fsync blocked by the freeze on ${host.name} had ${written.outcome === "failed" ? `failed (${written.error})` : `not finished ${THAWED_WITHIN_MS / 1000} s`} after the thaw`,
            );
          }
          await host.exec(["rm", "-f", join(dir, PROBE)]);
        }
        if (problems.length > 0) throw new Error(problems.join("; "));
      },
    };
  },
});

interface Probe {
  outcome: "pending" | "finished" | "failed";
  finishedAt: number;
  error: string;
  done: Promise<void>;
}

/** A write+fsync left running: on a frozen filesystem it blocks until the thaw. */
function startProbe(host: StartedMember, dir: string): Probe {
  const state: Probe = { outcome: "pending", finishedAt: 0, error: "", done: Promise.resolve() };
  state.done = probe(host, dir, 24 * 3600_000).then((result) => {
    state.outcome = result.code === 0 ? "finished" : "failed";
    state.error = result.stderr.trim();
    state.finishedAt = Date.now();
  });
  return state;
}
