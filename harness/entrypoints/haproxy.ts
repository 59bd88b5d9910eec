import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../common/exec.ts";
import { renderFixture } from "../common/template.ts";
import { memberDir, prepareMemberDir, runAsPostgres } from "../topology/members.ts";
import type { PostgresEndpoint } from "../topology/topology.ts";
import type { EntryPoint, EntryPointContext } from "./entrypoint.ts";

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
    const primaryLike = this.context.topology.endpoint(this.context.topology.postgresMembers()[0] ?? "n1");
    return { ...primaryLike, host: this.context.backend.address(this.member), port: 5432 };
  }

  logFiles(): string[] {
    return [join(this.dir(), `${this.member}.log`)];
  }

  async version(): Promise<string> {
    return (
      (await run(["/usr/sbin/haproxy", "-v"])).stdout.split("\n")[0]?.split(" - ")[0]?.trim() ?? "unknown"
    );
  }
}
