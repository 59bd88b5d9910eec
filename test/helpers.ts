import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI in a child process, exactly as a user or CI would. */
export function pgchaos(args: string[], options: { asUser?: string } = {}): CliResult {
  const node = [process.execPath, join(ROOT, "bin/pgchaos.js"), ...args];
  const argv = options.asUser ? ["runuser", "-u", options.asUser, "--", ...node] : node;
  const [command, ...rest] = argv;
  const result = spawnSync(command as string, rest, { cwd: ROOT, encoding: "utf8", timeout: 900_000 });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Everything a run could leave behind on this machine, named after the run id. */
export function leftovers(runId: string): string[] {
  const found: string[] = [];
  const ns = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout;
  for (const line of ns.split("\n")) if (line.includes(`pgchaos-${runId}`)) found.push(`namespace ${line}`);
  const links = spawnSync("ip", ["-o", "link"], { encoding: "utf8" }).stdout;
  for (const line of links.split("\n"))
    if (line.includes(runId)) found.push(`link ${line.split(":")[1]?.trim()}`);
  if (existsSync(`/run/pgchaos/${runId}.json`)) found.push("run state file");
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cmdline.includes(`pgchaos-${runId}`))
        found.push(`process ${entry}: ${cmdline.replaceAll("\0", " ")}`);
    } catch {
      // exited meanwhile
    }
  }
  const tmp = readdirSync("/tmp").filter((name) => name.startsWith(`pgchaos-${runId}-`));
  for (const dir of tmp) found.push(`work directory /tmp/${dir}`);
  return found;
}

/** The run id printed by `pgchaos run` ("… (run abc123)"). */
export function runIdOf(stdout: string): string {
  const match = /\(run ([0-9a-f]{6})\)/.exec(stdout);
  if (!match?.[1]) throw new Error(`no run id in output:\n${stdout}`);
  return match[1];
}
