import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../common/exec.ts";
import { renderFixture } from "../common/template.ts";
import { memberDir, prepareMemberDir, processLog, runAsPostgres } from "../topology/members.ts";
import type { PostgresEndpoint } from "../topology/topology.ts";
import { type EntryPoint, type EntryPointContext, proxyEndpoint } from "./entrypoint.ts";

/** HAProxy routing writes to the node whose Patroni REST API answers 200 on /primary. */
export class HaproxyEntryPoint implements EntryPoint {
  readonly kind = "haproxy";
  readonly member = "haproxy";

  constructor(private readonly context: EntryPointContext) {}

  private dir(): string {
    return memberDir(this.context.workdir, this.member);
  }

  async start(): Promise<void> {
    const { backend, topology } = this.context;
    await prepareMemberDir(this.context.workdir, this.member);
    const servers = topology
      .postgresMembers()
      .map((node) => `  server ${node} ${backend.address(node)}:5432 check port 8008`)
      .join("\n");
    const config = renderFixture("haproxy/haproxy.cfg", { address: backend.address(this.member), servers });
    writeFileSync(join(this.dir(), "haproxy.cfg"), config);
    await this.restart();
  }

  async restart(): Promise<void> {
    await runAsPostgres(this.context.backend, this.member, this.dir(), [
      "/usr/sbin/haproxy",
      "-db",
      "-f",
      join(this.dir(), "haproxy.cfg"),
    ]);
  }

  endpoint(): PostgresEndpoint {
    return proxyEndpoint(this.context, this.member);
  }

  logFiles(): string[] {
    return [processLog(this.dir(), this.member)];
  }

  async version(): Promise<string> {
    return (
      (await run(["/usr/sbin/haproxy", "-v"])).stdout.split("\n")[0]?.split(" - ")[0]?.trim() ?? "unknown"
    );
  }
}
