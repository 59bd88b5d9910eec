import { chmodSync, chownSync, closeSync, ftruncateSync, openSync, readFileSync, rmSync } from "node:fs";
import { sleep } from "../common/clock.ts";
import { run, runOk } from "../common/exec.ts";

/**
 * A member's own size-limited filesystem, on the host: a sparse file behind a loop device, ext4,
 * mounted on the member's directory before anything is written there. What disk-full fills and
 * io-freeze freezes is then that member's alone, never the host's (or another member's) disk.
 */

/** The size when a step needs a disk and `cluster.disk` does not say. */
export const DEFAULT_DISK_SIZE = "512MB";

/** Below this, initdb plus a few WAL segments and etcd's preallocated WAL do not fit. */
export const MIN_DISK_BYTES = 128 * 2 ** 20;

/** `cluster.disk` as bytes: "512MB", "2GB" (binary units, like df -h). */
export function parseDiskSize(text: string): number {
  const match = /^(\d+)(MB|GB)$/.exec(text);
  if (!match) throw new Error(`disk size ${text}: write e.g. 512MB or 2GB`);
  return Number(match[1]) * 2 ** (match[2] === "GB" ? 30 : 20);
}

/** What creating a disk needs recorded in the run's state before each step (see state.ts). */
export interface DiskRecorder {
  backingFile(path: string): void;
  mount(path: string): void;
}

/**
 * Sparse file → loop device → ext4 → mounted on `mount`, whose root ends up owned by uid/gid,
 * mode 0700, and empty. Each resource is recorded before it exists; the loop device is found again
 * from its backing file (`losetup -j`), so a crash between attaching and recording leaks nothing.
 */
export async function createDisk(
  disk: { backingFile: string; mount: string; bytes: number; uid: number; gid: number },
  record: DiskRecorder,
): Promise<void> {
  record.backingFile(disk.backingFile);
  const fd = openSync(disk.backingFile, "wx", 0o600);
  try {
    ftruncateSync(fd, disk.bytes);
  } finally {
    closeSync(fd);
  }
  const device = (await runOk(["losetup", "--find", "--show", disk.backingFile])).trim();
  // No blocks reserved for root: the harness fills as root, and the member must see the same "full".
  await runOk(["mkfs.ext4", "-q", "-b", "4096", "-m", "0", device], { timeoutMs: 120_000 });
  record.mount(disk.mount);
  await runOk(["mount", "-t", "ext4", device, disk.mount]);
  // An empty directory, as without a disk of its own (e2fsck recreates lost+found if it needs one).
  rmSync(`${disk.mount}/lost+found`, { recursive: true, force: true });
  chownSync(disk.mount, disk.uid, disk.gid);
  chmodSync(disk.mount, 0o700);
}

/**
 * Thaws every mount that is still mounted. First in any teardown: a process writing to a frozen
 * filesystem sleeps uninterruptibly (state D), and not even SIGKILL ends it until the thaw.
 */
export async function thawDisks(mounts: string[]): Promise<void> {
  const mounted = mountedPaths();
  for (const mount of mounts) {
    // Not frozen is the common case, and its EINVAL is fine.
    if (mounted.has(mount)) await run(["fsfreeze", "-u", mount], { timeoutMs: 10_000 });
  }
}

/** Unmounts (lazily if still busy), detaches each backing file's loop devices, deletes the files. */
export async function removeDisks(mounts: string[], backingFiles: string[]): Promise<void> {
  for (const mount of [...mounts].reverse()) {
    for (let attempt = 0; attempt < 20 && mountedPaths().has(mount); attempt++) {
      if ((await run(["umount", mount])).code === 0) break;
      await sleep(250);
    }
    // Still busy after 5 s (a process that outlived the teardown's kill): detach it from the tree now,
    // the kernel lets go of the filesystem once its last user does.
    if (mountedPaths().has(mount)) await run(["umount", "-l", mount]);
  }
  for (const file of backingFiles) {
    for (const device of await loopDevicesOf(file)) await run(["losetup", "-d", device]);
    rmSync(file, { force: true });
  }
}

/** Loop devices whose backing file is this one: the only ones a teardown may detach. */
export async function loopDevicesOf(backingFile: string): Promise<string[]> {
  const listed = await run(["losetup", "-j", backingFile]);
  if (listed.code !== 0) return [];
  return listed.stdout
    .split("\n")
    .map((line) => line.split(":")[0]?.trim() ?? "")
    .filter((device) => device.startsWith("/dev/loop"));
}

/** Mount points in the host's mount table (ours have no spaces, so no octal escapes to undo). */
export function mountedPaths(): Set<string> {
  const table = readFileSync("/proc/self/mounts", "utf8");
  return new Set(table.split("\n").map((line) => line.split(" ")[1] ?? ""));
}
