import type { AgentConfig, AgentMessage } from "../agent/protocol.ts";
import type { HelperProcess, StartedMember } from "../backend/backend.ts";

/** The harness's side of a helper process in a member: starts it, collects its messages. */
export class Agent {
  private helper: HelperProcess | undefined;
  private garbage = "";
  /** Messages received; an agent that sent none never worked. */
  received = 0;

  constructor(
    readonly member: string,
    private readonly config: AgentConfig,
    private readonly onMessage: (message: AgentMessage) => void,
  ) {}

  start(member: StartedMember): void {
    const helper = member.startHelper(JSON.stringify(this.config));
    this.helper = helper;
    helper.onLine((line) => {
      try {
        const message = JSON.parse(line) as AgentMessage;
        this.received += 1;
        this.onMessage(message);
      } catch {
        this.garbage += `${line}\n`;
      }
    });
  }

  /** Stops it after its in-flight writes have an outcome; returns anything it printed that was not a message. */
  async stop(): Promise<string> {
    await this.helper?.stop();
    return `${this.garbage}${this.helper?.errors() ?? ""}`.trim();
  }
}
