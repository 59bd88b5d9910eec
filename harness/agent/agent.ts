import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Backend } from "../backend/backend.ts";
import type { AgentConfig, AgentMessage } from "./protocol.ts";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));
const PROJECT = fileURLToPath(new URL("../../", import.meta.url));

/** The harness's side of a helper process in a member's namespace: starts it, collects its messages. */
export class Agent {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private errors = "";
  /** Messages received; an agent that sent none never worked. */
  received = 0;

  constructor(
    readonly member: string,
    private readonly config: AgentConfig,
    private readonly onMessage: (message: AgentMessage) => void,
  ) {}

  start(backend: Backend): void {
    const argv = backend.commandOn(this.member, [
      process.execPath,
      "--import",
      "tsx",
      MAIN,
      JSON.stringify(this.config),
    ]);
    const [command, ...args] = argv;
    if (!command) throw new Error("empty agent command");
    // Not detached: a harness that dies takes its agents along (the namespace teardown kills them too).
    const child = spawn(command, args, { cwd: PROJECT, stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    this.exited = new Promise((resolve) => child.once("close", () => resolve()));
    createInterface({ input: child.stdout }).on("line", (line) => {
      try {
        const message = JSON.parse(line) as AgentMessage;
        this.received += 1;
        this.onMessage(message);
      } catch {
        this.errors += `${line}\n`;
      }
    });
    child.stderr.on("data", (chunk: Buffer) => {
      this.errors += chunk.toString();
    });
  }

  /** Stops it after its in-flight writes have an outcome; returns anything it printed that was not a message. */
  async stop(): Promise<string> {
    this.child?.kill("SIGTERM");
    await this.exited;
    return this.errors.trim();
  }
}
