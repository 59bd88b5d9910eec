import { join } from "node:path";
import type { StartedBackend, StartedMember } from "../harness/backend/backend.ts";
import type { Member } from "../harness/model/record.ts";
import { memberEnv } from "../harness/topology/members.ts";
import { installService, restartService } from "./attach-fixture.ts";

/**
 * A provisioned repmgr member's two services, as a host's init system would run them: PostgreSQL
 * under pg_ctl with the deployment's own arguments (repmgr.conf's service commands), and repmgrd
 * started as the deployment starts it (as postgres, its environment, argv and log), its running
 * process adopted so that `stop` stops it. The witness runs both too: repmgrd is its `dcs`.
 */
export async function repmgrServices(member: StartedMember, kind: Member["kind"], backend: StartedBackend) {
  if (kind !== "postgres" && kind !== "witness") return undefined;
  const { dir } = member;
  const env = memberEnv(member, backend.stack.postgresBin);
  const repmgrd = await installService(member, backend, {
    name: "repmgrd",
    argv: ["/usr/bin/repmgrd", "-f", join(dir, "repmgr.conf"), "--daemonize=false"],
    running: /\/repmgrd /,
  });
  await restartService(member, repmgrd);
  const postgresScript = join(dir, "postgres-service.sh");
  await member.writeFile(postgresScript, pgCtlScript(member, backend.stack.postgresBin, env), {
    mode: 0o755,
  });
  const postgres = { start: `${postgresScript} start`, stop: `${postgresScript} stop` };
  return kind === "postgres" ? { ha_agent: repmgrd, postgres } : { dcs: repmgrd, postgres };
}

/** Every repmgr member's repmgr.conf is in its own directory, not the layout's /etc/repmgr.conf. */
export function repmgrConfig(member: StartedMember, kind: Member["kind"]): Record<string, unknown> {
  return kind === "postgres" || kind === "witness" ? { ha_config: join(member.dir, "repmgr.conf") } : {};
}

/**
 * PostgreSQL as a service: pg_ctl as postgres with the deployment's data directory, log, port and
 * socket. Starting a running server and stopping a stopped one succeed, as systemctl's do.
 */
function pgCtlScript(member: StartedMember, bin: string, env: Record<string, string>): string {
  const { dir } = member;
  const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const pgCtl = `setpriv --reuid=postgres --regid=postgres --init-groups -- env -i ${vars.join(" ")} ${bin}/pg_ctl -D ${dir}/data`;
  return [
    "#!/bin/sh",
    `cd ${dir} || exit 1`,
    'case "$1" in',
    "start)",
    `  ${pgCtl} status >/dev/null 2>&1 && exit 0`,
    `  exec ${pgCtl} -l ${dir}/${member.name}-postgres.log -o "-p 5432 -k ${dir}/sock" -w start ;;`,
    "stop)",
    `  ${pgCtl} status >/dev/null 2>&1 || exit 0`,
    `  exec ${pgCtl} -m fast -w stop ;;`,
    '*) echo "usage: $0 start|stop" >&2; exit 2 ;;',
    "esac",
    "",
  ].join("\n");
}
