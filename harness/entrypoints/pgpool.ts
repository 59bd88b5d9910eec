import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../common/exec.ts";
import { renderFixture } from "../common/template.ts";
import { memberDir, prepareMemberDir, processLog, runAsPostgres } from "../topology/members.ts";
import type { PostgresEndpoint } from "../topology/topology.ts";
import { type EntryPoint, type EntryPointContext, proxyEndpoint } from "./entrypoint.ts";

/** Pgpool-II in streaming-replication mode, as the Bitnami postgresql-ha chart puts it in front of repmgr. */
export class PgpoolEntryPoint implements EntryPoint {
  readonly kind = "pgpool";
  readonly member = "pgpool";

  constructor(private readonly context: EntryPointContext) {}

  private dir(): string {
    return memberDir(this.context.workdir, this.member);
  }

  async start(): Promise<void> {
    const { backend, topology } = this.context;
    const dir = await prepareMemberDir(this.context.workdir, this.member, ["sock"]);
    const backends = topology
      .postgresMembers()
      .flatMap((node, i) => [
        `backend_hostname${i} = '${backend.address(node)}'`,
        `backend_port${i} = 5432`,
        `backend_weight${i} = 1`,
        `backend_flag${i} = 'ALLOW_TO_FAILOVER'`,
        `backend_application_name${i} = '${node}'`,
      ])
      .join("\n");
    writeFileSync(join(dir, "pgpool.conf"), renderFixture("pgpool/pgpool.conf", { dir, backends }));
    writeFileSync(join(dir, "pcp.conf"), "");
    await this.restart();
  }

  async restart(): Promise<void> {
    const dir = this.dir();
    // -D discards the status file: a restarted Pgpool re-discovers which backends are up.
    await runAsPostgres(this.context.backend, this.member, dir, [
      "/usr/sbin/pgpool",
      "-n",
      "-D",
      "-f",
      join(dir, "pgpool.conf"),
      "-F",
      join(dir, "pcp.conf"),
    ]);
  }

  endpoint(): PostgresEndpoint {
    return proxyEndpoint(this.context, this.member);
  }

  logFiles(): string[] {
    return [processLog(this.dir(), this.member)];
  }

  async version(): Promise<string> {
    return (await run(["/usr/sbin/pgpool", "--version"])).stdout.trim() || "unknown";
  }
}
