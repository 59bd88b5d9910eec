import { StringDecoder } from "node:string_decoder";
import { build } from "esbuild";
import { AGENT_MARKER } from "../agent/protocol.ts";
import type { HelperProcess } from "./backend.ts";
import type { DockerContainer } from "./docker-engine.ts";
import { type RunningExec, openExec, openKill } from "./docker-exec.ts";

/** Where bundles go inside a member; the marker in the path also tells processes() it is an instrument. */
export const HELPER_DIR = "/opt/pgchaos";

/** A helper that ignores SIGTERM this long (writes stuck behind a partition) is killed. */
const STOP_GRACE_MS = 30_000;

const bundles = new Map<string, Promise<string>>();

/**
 * The agent and its dependencies as one ES module for the member's own Node (bookworm's is 18):
 * members have no node_modules and no tsx. Built once per harness process.
 */
export function bundle(entry: string): Promise<string> {
  let built = bundles.get(entry);
  if (!built) {
    built = build({
      entryPoints: [entry],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node18",
      write: false,
      logLevel: "silent",
      // Native addons cannot be bundled; pg only tries pg-native when asked to.
      external: ["pg-native", "libpq"],
      // CommonJS dependencies (pg) call require(), which an ES module lacks. Aliased: the bundle
      // may import createRequire itself.
      banner: {
        js: "import { createRequire as pgchaosCreateRequire } from 'node:module'; const require = pgchaosCreateRequire(import.meta.url);",
      },
    }).then((result) => {
      const file = result.outputFiles[0];
      if (!file) throw new Error(`esbuild produced nothing for ${entry}`);
      return file.text;
    });
    built.catch(() => bundles.delete(entry));
    bundles.set(entry, built);
  }
  return built;
}

/**
 * Runs `node <bundle> pgchaos-agent <config>` as root inside the member, attached: stdout lines go
 * to the listeners, stderr is kept. The marker comes before the config, which the agent reads
 * from its last argument.
 */
export function runHelper(
  container: DockerContainer,
  install: () => Promise<string>,
  config: string,
): HelperProcess {
  const listeners: ((line: string) => void)[] = [];
  const decoder = new StringDecoder("utf8");
  let partial = "";
  let errors = "";
  const stdout = (chunk: Buffer) => {
    const lines = (partial + decoder.write(chunk)).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) for (const listener of listeners) listener(line);
  };
  const running: Promise<RunningExec | null> = install()
    .then((path) =>
      openExec(container, ["node", path, AGENT_MARKER, config], {}, stdout, (chunk) => {
        errors += chunk.toString();
      }),
    )
    .catch((error: unknown) => {
      errors += `could not start the helper: ${error instanceof Error ? error.message : String(error)}\n`;
      return null;
    });
  void running.then((exec) =>
    exec?.exited.then(() => {
      const rest = partial + decoder.end();
      if (rest) for (const listener of listeners) listener(rest);
    }),
  );
  return {
    onLine: (listener) => listeners.push(listener),
    errors: () => errors,
    async stop() {
      const exec = await running;
      if (!exec) return;
      const pid = await exec.pid;
      if (pid === null) return void (await exec.exited);
      await openKill(container, ["-TERM", String(pid)]);
      const timer = setTimeout(() => {
        errors += `helper ignored SIGTERM for ${STOP_GRACE_MS} ms: killed\n`;
        void openKill(container, ["-KILL", String(pid)]).finally(() => exec.abandon(137));
      }, STOP_GRACE_MS);
      await exec.exited;
      clearTimeout(timer);
    },
  };
}
