import { describe, expect, it } from "vitest";
import { parseRepmgrConf } from "./repmgr.ts";

describe("parseRepmgrConf", () => {
  it("reads bare and quoted values, with or without spaces around =, ignoring comments", () => {
    const conf = parseRepmgrConf(
      [
        "# repmgr.conf as Debian's package and the docs write it",
        "node_id=1",
        "node_name = 'pg-1'",
        "conninfo='host=10.0.0.1 user=repmgr dbname=repmgr connect_timeout=2'",
        "data_directory='/var/lib/postgresql/15/main'   # PGDATA",
        "failover=automatic # or manual",
        "  reconnect_attempts = 2",
        "",
        "service_start_command='sudo /usr/bin/pg_ctlcluster 15 main start'",
      ].join("\n"),
    );
    expect(conf).toEqual({
      node_id: "1",
      node_name: "pg-1",
      conninfo: "host=10.0.0.1 user=repmgr dbname=repmgr connect_timeout=2",
      data_directory: "/var/lib/postgresql/15/main",
      failover: "automatic",
      reconnect_attempts: "2",
      service_start_command: "sudo /usr/bin/pg_ctlcluster 15 main start",
    });
  });

  it("keeps # inside quotes, unescapes '' and \\', and lets the last setting win", () => {
    const conf = parseRepmgrConf(
      ["node_name='a'", "node_name='b#1'", "promote_command='echo ''it''s'' \\'done\\''"].join("\n"),
    );
    expect(conf.node_name).toBe("b#1");
    expect(conf.promote_command).toBe("echo 'it's' 'done'");
  });
});
