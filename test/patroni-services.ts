import { join } from "node:path";
import type { StartedBackend, StartedMember } from "../harness/backend/backend.ts";
import type { Member } from "../harness/model/record.ts";
import { installService } from "./attach-fixture.ts";

/** Each node's Patroni and each etcd member as a service, as the local deployment runs them. */
export async function patroniServices(member: StartedMember, kind: Member["kind"], backend: StartedBackend) {
  if (kind === "postgres") {
    const patroni = await installService(member, backend, {
      name: "patroni",
      argv: ["/usr/bin/patroni", join(member.dir, "patroni.yml")],
      running: /\/usr\/bin\/patroni /,
    });
    return { ha_agent: patroni, postgres: patroni };
  }
  const etcd = await installService(member, backend, {
    name: "etcd",
    argv: ["/usr/bin/etcd", "--config-file", join(member.dir, "etcd.yml")],
    running: /\/usr\/bin\/etcd /,
  });
  return { dcs: etcd };
}
