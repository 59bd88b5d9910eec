import { join } from "node:path";
import type { StartedBackend } from "../../backend/backend.ts";
import { renderFixture } from "../../common/template.ts";
import { runAsPostgres, writeConfig } from "../members.ts";

/** etcd's process, as a member runs it (Debian's binary): what a clean stop signals. */
export const ETCD_COMMAND = /\/usr\/bin\/etcd /;

/** An etcd cluster, one member per host: the DCS Patroni keeps its leader lock in. */
export class EtcdCluster {
  constructor(
    private readonly backend: StartedBackend,
    private readonly runId: string,
    readonly names: string[],
  ) {}

  private address(name: string): string {
    return this.backend.member(name).address;
  }

  clientUrls(): string {
    return this.names.map((name) => `${this.address(name)}:2379`).join(",");
  }

  async configure(): Promise<void> {
    const initialCluster = this.names.map((name) => `${name}=http://${this.address(name)}:2380`).join(",");
    for (const name of this.names) {
      const member = this.backend.member(name);
      const config = renderFixture("etcd/etcd.yml", {
        name,
        dir: member.dir,
        address: member.address,
        initial_cluster: initialCluster,
        run_id: this.runId,
      });
      await writeConfig(member, "etcd.yml", config);
    }
  }

  async start(name: string): Promise<void> {
    const member = this.backend.member(name);
    await runAsPostgres(this.backend, member, [
      "/usr/bin/etcd",
      "--config-file",
      join(member.dir, "etcd.yml"),
    ]);
  }
}
