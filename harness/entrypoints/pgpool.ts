import { join } from "node:path";
import { renderFixture } from "../common/template.ts";
import type { PostgresEndpoint } from "../model/cluster.ts";
import {
  componentVersions,
  prepareMemberDir,
  processLog,
  runAsPostgres,
  writeConfig,
} from "../topology/members.ts";
import { READ_FUNCTIONS } from "../workload/readers.ts";
import { type EntryPoint, type EntryPointContext, type ReplicaPath, proxyEndpoint } from "./entrypoint.ts";

/** The application_name Pgpool sends to a standby (app_name_redirect_preference_list). */
export const REPLICA_APPLICATION_NAME = "pgchaos-replica-reader";

/**
 * Pgpool-II in streaming-replication mode, as the Bitnami postgresql-ha chart puts it in front of
 * repmgr. Sessions go to the primary, except those announcing REPLICA_APPLICATION_NAME, whose reads
 * Pgpool balances over the standbys (the replica readers' path).
 */
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
    const config = renderFixture("pgpool/pgpool.conf", {
      dir,
      backends,
      replica_application_name: REPLICA_APPLICATION_NAME,
      read_only_functions: READ_FUNCTIONS.join(","),
    });
    await writeConfig(this.host(), "pgpool.conf", config);
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

  /** The same port: the session's application_name is what sends it to a standby. */
  replicaPath(): ReplicaPath {
    return { endpoint: this.endpoint(), applicationName: REPLICA_APPLICATION_NAME };
  }

  logFiles(): string[] {
    return [processLog(this.host())];
  }

  async version(): Promise<string> {
    const { pgpool } = await componentVersions(this.host(), { pgpool: "/usr/sbin/pgpool" });
    return pgpool ?? "unknown";
  }
}
