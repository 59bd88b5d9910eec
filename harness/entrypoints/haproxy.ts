import { join } from "node:path";
import { renderFixture } from "../common/template.ts";
import type { PostgresEndpoint } from "../model/cluster.ts";
import { componentVersions, processLog, runAsPostgres, writeConfig } from "../topology/members.ts";
import {
  type EntryPoint,
  type EntryPointContext,
  REPLICA_PORT,
  type ReplicaPath,
  proxyEndpoint,
} from "./entrypoint.ts";

/** HAProxy routing writes to the node whose Patroni REST API answers 200 on /primary. */
export class HaproxyEntryPoint implements EntryPoint {
  readonly kind = "haproxy";
  readonly member = "haproxy";

  constructor(private readonly context: EntryPointContext) {}

  private host() {
    return this.context.backend.member(this.member);
  }

  private dir(): string {
    return this.host().dir;
  }

  async start(): Promise<void> {
    const { backend, topology } = this.context;
    const servers = topology
      .postgresMembers()
      .map((node) => `  server ${node} ${backend.member(node).address}:5432 check port 8008`)
      .join("\n");
    const config = renderFixture("haproxy/haproxy.cfg", {
      address: this.host().address,
      servers,
      replica_port: String(REPLICA_PORT),
    });
    await writeConfig(this.host(), "haproxy.cfg", config);
    await this.restart();
  }

  async restart(): Promise<void> {
    await runAsPostgres(this.context.backend, this.host(), [
      "/usr/sbin/haproxy",
      "-db",
      "-f",
      join(this.dir(), "haproxy.cfg"),
    ]);
  }

  endpoint(): PostgresEndpoint {
    return proxyEndpoint(this.context, this.member);
  }

  replicaPath(): ReplicaPath {
    return { endpoint: proxyEndpoint(this.context, this.member, REPLICA_PORT) };
  }

  logFiles(): string[] {
    return [processLog(this.host())];
  }

  async version(): Promise<string> {
    const { haproxy } = await componentVersions(this.host(), { haproxy: "/usr/sbin/haproxy" }, "-v");
    return haproxy?.split(" - ")[0]?.trim() ?? "unknown";
  }
}
