import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Backend } from "../backend/backend.ts";
import { renderFixture } from "../common/template.ts";
import { memberDir, runAsPostgres } from "./members.ts";

/** A 3.4 etcd cluster, one member per host: the DCS Patroni keeps its leader lock in. */
export class EtcdCluster {
  constructor(
    private readonly backend: Backend,
    private readonly workdir: string,
    private readonly runId: string,
    readonly names: string[],
  ) {}

  clientUrls(): string {
    return this.names.map((name) => `${this.backend.address(name)}:2379`).join(",");
  }

  configure(): void {
    const initialCluster = this.names
      .map((name) => `${name}=http://${this.backend.address(name)}:2380`)
      .join(",");
    for (const name of this.names) {
      const dir = memberDir(this.workdir, name);
      const config = renderFixture("etcd/etcd.yml", {
        name,
        dir,
        address: this.backend.address(name),
        initial_cluster: initialCluster,
        run_id: this.runId,
      });
      writeFileSync(join(dir, "etcd.yml"), config);
    }
  }

  async start(name: string): Promise<void> {
    const dir = memberDir(this.workdir, name);
    await runAsPostgres(this.backend, name, dir, ["/usr/bin/etcd", "--config-file", join(dir, "etcd.yml")]);
  }
}
