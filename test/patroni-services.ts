import { join } from "node:path";
import type { StartedBackend, StartedMember } from "../harness/backend/backend.ts";
import type { Member } from "../harness/run/record.ts";
import { memberEnv, processLog } from "../harness/topology/members.ts";
import { adoptService, serviceScript } from "./attach-fixture.ts";

/**
 * Each node's Patroni and each etcd member as a service, started exactly as the local deployment
 * starts them (as postgres, its environment, its config, appending to its log).
 */
export async function patroniServices(member: StartedMember, kind: Member["kind"], backend: StartedBackend) {
  const [name, argv, running] =
    kind === "postgres"
      ? ["patroni", ["/usr/bin/patroni", join(member.dir, "patroni.yml")], /\/usr\/bin\/patroni /]
      : ["etcd", ["/usr/bin/etcd", "--config-file", join(member.dir, "etcd.yml")], /\/usr\/bin\/etcd /];
  const pidfile = join(member.dir, `${name}.pid`);
  const script = join(member.dir, `${name}-service.sh`);
  await member.writeFile(
    script,
    serviceScript({
      pidfile,
      cwd: member.dir,
      user: "postgres",
      env: memberEnv(member, backend.stack.postgresBin),
      argv,
      log: processLog(member),
    }),
    { mode: 0o755 },
  );
  await adoptService(member, running, pidfile);
  const service = { start: `${script} start`, stop: `${script} stop` };
  return kind === "postgres" ? { ha_agent: service, postgres: service } : { dcs: service };
}
