import { join } from "node:path";
import { renderFixture } from "../common/template.ts";
import {
  componentVersions,
  prepareMemberDir,
  processLog,
  runAsPostgres,
  writeConfig,
} from "../topology/members.ts";
import type { PostgresEndpoint } from "../topology/topology.ts";
import { type EntryPoint, type EntryPointContext, proxyEndpoint } from "./entrypoint.ts";

/** Pgpool-II in streaming-replication mode, as the Bitnami postgresql-ha chart puts it in front of repmgr. */
export class PgpoolEntryPoint implements EntryPoint {
  readonly kind = "pgpool";
  readonly member = "pgpool";

  constructor(private readonly context: EntryPointContext) {}

  private host() {
    return this.context.backend.member(this.member);
  }

  private dir(): string {
    return this.host().dir;
  }

  async start(): Promise<void> {
    const { backend, topology } = this.context;
    const { dir } = this.host();
    await prepareMemberDir(this.host(), ["sock"]);
    const backends = topology
      .postgresMembers()
      .flatMap((node, i) => [
        `backend_hostname${i} = '${backend.member(node).address}'`,
        `backend_port${i} = 5432`,
        `backend_weight${i} = 1`,
        `backend_flag${i} = 'ALLOW_TO_FAILOVER'`,
        `backend_application_name${i} = '${node}'`,
      ])
      .join("\n");
    await writeConfig(this.host(), "pgpool.conf", renderFixture("pgpool/pgpool.conf", { dir, backends }));
    await writeConfig(this.host(), "pcp.conf", "");
    await this.restart();
  }

  async restart(): Promise<void> {
    const dir = this.dir();
    // -D discards the status file: a restarted Pgpool re-discovers which backends are up.
    await runAsPostgres(this.context.backend, this.host(), [
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
    return [processLog(this.host())];
  }

  async version(): Promise<string> {
    const { pgpool } = await componentVersions(this.host(), { pgpool: "/usr/sbin/pgpool" });
    return pgpool ?? "unknown";
  }
}
