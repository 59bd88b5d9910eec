import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sessionOptions, sshMembers } from "../backend/ssh-backend.ts";
import { UsageError } from "../common/errors.ts";
import { clusterJsonSchema } from "../scenario/write-schema.ts";
import { databasePassword, defaultServices, parseClusterFile, pgpassLookup } from "./cluster-file.ts";

const FILE = "/etc/pgchaos/staging.yaml";

const PATRONI = `# yaml-language-server: $schema=./cluster.schema.json
name: staging-patroni
ha: patroni
allow_faults: true
ssh:
  user: deploy
  sudo: true
  key: ~/.ssh/staging_ed25519
  jump: ops@bastion.example.com:2222
services:
  ha_agent: { stop: "systemctl stop patroni@main" }
members:
  - { name: pg1, host: 10.0.0.11 }
  - { name: pg2, host: 10.0.0.12 }
  - name: pg3
    host: pg3.example.com
    address: 10.0.0.13
    ssh: { port: 2200, key: keys/pg3, jump: { host: 10.0.0.1, user: root } }
    services:
      ha_agent: { start: "systemctl start patroni@main --no-block" }
  - { name: etcd1, host: 10.0.0.21, roles: [dcs] }
entrypoints:
  - { kind: haproxy, host: 10.0.0.30, port: 5000 }
  - { kind: uri, uri: "postgresql://10.0.0.11:5432,10.0.0.12:5432/app?target_session_attrs=read-write" }
database:
  name: app
  role: pgchaos
  password_env: STAGING_PGPASSWORD
`;

/** The one-line error a file gives, or "" when it loads. */
function problem(source: string): string {
  try {
    parseClusterFile(source, FILE);
    return "";
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).not.toContain("\n");
    return (error as Error).message;
  }
}

const minimal = (extra: string) =>
  `name: c\nha: repmgr\nmembers:\n  - { name: a, host: h1 }\ndatabase: { role: r }\n${extra}`;

describe("cluster file", () => {
  it("loads a Patroni fleet: defaults, file-wide and per-member overrides, keys and jump hosts resolved", () => {
    const cluster = parseClusterFile(PATRONI, FILE);
    expect(cluster.ha).toBe("patroni");
    expect(cluster.allowFaults).toBe(true);
    expect(cluster.database).toEqual({ name: "app", role: "pgchaos", passwordEnv: "STAGING_PGPASSWORD" });
    expect(cluster.members.map((m) => [m.name, m.roles])).toEqual([
      ["pg1", ["postgres"]],
      ["pg2", ["postgres"]],
      ["pg3", ["postgres"]],
      ["etcd1", ["dcs"]],
    ]);
    const [pg1, , pg3, etcd1] = cluster.members as [
      (typeof cluster.members)[number],
      unknown,
      (typeof cluster.members)[number],
      (typeof cluster.members)[number],
    ];
    expect(pg1.services.ha_agent).toEqual({
      stop: "systemctl stop patroni@main",
      start: "systemctl start patroni",
    });
    expect(pg3.services.ha_agent).toEqual({
      stop: "systemctl stop patroni@main",
      start: "systemctl start patroni@main --no-block",
    });
    expect(etcd1.services.dcs).toEqual({ stop: "systemctl stop etcd", start: "systemctl start etcd" });
    expect(pg1.ssh).toEqual({
      name: "pg1",
      ssh: { host: "10.0.0.11", user: "deploy", identityFile: join(homedir(), ".ssh/staging_ed25519") },
      jump: {
        host: "bastion.example.com",
        port: 2222,
        user: "ops",
        identityFile: join(homedir(), ".ssh/staging_ed25519"),
      },
      sudo: true,
      address: "10.0.0.11",
      dir: "/var/tmp/pgchaos",
    });
    // A relative key is relative to the cluster file; the member's jump object replaces the file's string.
    expect(pg3.ssh.ssh).toEqual({
      host: "pg3.example.com",
      port: 2200,
      user: "deploy",
      identityFile: "/etc/pgchaos/keys/pg3",
    });
    expect(pg3.ssh.jump).toEqual({ host: "10.0.0.1", user: "root", identityFile: "/etc/pgchaos/keys/pg3" });
    expect(pg3.address).toBe("10.0.0.13");
    expect(sshMembers(cluster)).toHaveLength(4);
    expect(cluster.entrypoints.map((e) => e.kind)).toEqual(["haproxy", "uri"]);
  });

  it("defaults: root login with the agent, faults off, service names per HA manager and layout", () => {
    const cluster = parseClusterFile(minimal(""), FILE);
    expect(cluster.allowFaults).toBe(false);
    expect(cluster.members[0]?.ssh).toEqual({
      name: "a",
      ssh: { host: "h1", user: "root" },
      sudo: false,
      address: "h1",
      dir: "/var/tmp/pgchaos",
    });
    expect(cluster.members[0]?.services.ha_agent.stop).toBe("systemctl stop repmgrd");
    expect(cluster.members[0]?.services.postgres.stop).toBe("systemctl stop postgresql@15-main");
    expect(defaultServices("repmgr", "rhel", 16).postgres.start).toBe("systemctl start postgresql-16");
    expect(defaultServices("repmgr", "rhel", 16).ha_agent.stop).toBe("systemctl stop repmgr-16");
    expect(defaultServices("pg_auto_failover", "debian", 15).ha_agent.stop).toBe(
      "systemctl stop pgautofailover",
    );
    expect(
      parseClusterFile(minimal("layout: rhel\npostgres_version: 16\n"), FILE).members[0]?.services.postgres
        .stop,
    ).toBe("systemctl stop postgresql-16");
  });

  it("host keys: trust on first use by default; known_hosts (relative to the file) checked strictly; abort_if for every run", () => {
    const loose = parseClusterFile(minimal(""), FILE);
    expect(sessionOptions(loose, "r1")).toEqual({ runId: "r1" });
    expect(loose.abortWriteGapMs).toBeNull();
    const strict = parseClusterFile(minimal('known_hosts: known\nabort_if: { write_gap: "> 2m" }\n'), FILE);
    expect(sessionOptions(strict, "r1")).toEqual({
      runId: "r1",
      knownHostsFile: "/etc/pgchaos/known",
      strictHostKeyChecking: "yes",
    });
    expect(strict.abortWriteGapMs).toBe(120_000);
  });

  it("refuses a password anywhere, at its line, naming the key and the way to give it", () => {
    const inDatabase =
      "name: c\nha: repmgr\nmembers:\n  - { name: a, host: h1 }\ndatabase:\n  role: r\n  password: hunter2\n";
    expect(problem(inDatabase)).toBe(
      `${FILE}:7:3: database.password: no password in the cluster file — set database.password_env to the name of an environment variable holding it, or leave it out and let libpq read ~/.pgpass`,
    );
    expect(
      problem(minimal("").replace("{ name: a, host: h1 }", "{ name: a, host: h1, ssh: { password: x } }")),
    ).toMatch(/^\/etc\/pgchaos\/staging\.yaml:4:33: members\[0\]\.ssh\.password: no password/);
    expect(
      problem(minimal("entrypoints:\n  - { kind: uri, uri: 'postgresql://app:secret@h1/app' }\n")),
    ).toMatch(/staging\.yaml:\d+:\d+: entrypoints\[0\]\.uri: no password in the URI/);
    expect(
      problem(minimal("entrypoints:\n  - { kind: uri, uri: 'postgresql://h1/app?password=x' }\n")),
    ).toMatch(/entrypoints\[0\]\.uri: no password in the URI/);
  });

  it("names file:line:col and the key for each kind of mistake", () => {
    expect(problem(minimal("").replace("ha: repmgr", "ha: stolon"))).toMatch(
      /staging\.yaml:2:5: ha: Invalid option/,
    );
    expect(problem(minimal("alow_faults: true\n"))).toBe(
      `${FILE}:6:1: (top level): unknown key "alow_faults"`,
    );
    expect(problem(minimal("").replace("database: { role: r }\n", ""))).toMatch(
      /staging\.yaml:1:1: database: missing/,
    );
    expect(problem(minimal("allow_faults: yes please\n"))).toMatch(/staging\.yaml:6:15: allow_faults: /);
    expect(problem(minimal("ssh: { port: 70000 }\n"))).toMatch(/staging\.yaml:6:14: ssh\.port: /);
    expect(problem(minimal("ssh: { user: '-oProxyCommand=x' }\n"))).toMatch(
      /ssh\.user: no spaces, quotes, # or leading dash/,
    );
    expect(problem(minimal("ssh: { jump: 'a b' }\n"))).toMatch(/ssh\.jump: /);
    expect(problem(minimal("ssh: { key: k, agent: true }\n"))).toMatch(
      /members\[0\]\.ssh: key and agent: pick one/,
    );
    expect(problem(minimal("services: { haagent: { stop: x } }\n"))).toMatch(
      /staging\.yaml:6:13: services: unknown key "haagent"/,
    );
    expect(
      problem(minimal("").replace("{ name: a, host: h1 }", "{ name: a, host: h1, roles: [monitor] }")),
    ).toMatch(
      /staging\.yaml:4:34: members\[0\]\.roles\[0\]: monitor is a pg_auto_failover role, not repmgr's/,
    );
    expect(
      problem(
        minimal("").replace(
          "  - { name: a, host: h1 }\n",
          "  - { name: a, host: h1 }\n  - { name: a, host: h2 }\n",
        ),
      ),
    ).toMatch(/staging\.yaml:5:13: members\[1\]\.name: a is listed twice/);
    expect(problem(minimal("").replace("ha: repmgr", "ha: pg_auto_failover"))).toMatch(
      /members: pg_auto_failover needs exactly one member with roles: \[monitor\]/,
    );
    expect(problem(minimal("entrypoints:\n  - { kind: haproxy, host: lb, port: 5000 }\n"))).toMatch(
      /staging\.yaml:7:13: entrypoints\[0\]\.kind: haproxy is not supported with repmgr yet/,
    );
    expect(problem("name: c\nha: [patroni\n")).toMatch(/^\/etc\/pgchaos\/staging\.yaml:\d+:\d+: /);
  });

  it("keeps scenarios/cluster.schema.json in step with the schema (npm run schema)", () => {
    const onDisk = readFileSync(new URL("../../scenarios/cluster.schema.json", import.meta.url), "utf8");
    expect(onDisk).toBe(clusterJsonSchema());
    expect(JSON.parse(onDisk).properties.database.properties).not.toHaveProperty("password");
  });

  it("takes the workload's password from password_env, else from ~/.pgpass as libpq would", () => {
    const cluster = parseClusterFile(PATRONI, FILE);
    expect(databasePassword(cluster, { STAGING_PGPASSWORD: "s3cret" })).toBe("s3cret");
    expect(() => databasePassword(cluster, {})).toThrow(/STAGING_PGPASSWORD is not set/);
    const pgpass = [
      "# comment",
      "10.0.0.99:5432:app:pgchaos:other",
      "10.0.0.11:5432:app:pgchaos:it\\:s\\\\x",
      "*:*:*:*:fallback",
    ].join("\n");
    const wanted = { host: "10.0.0.11", port: "5432", database: "app", user: "pgchaos" };
    expect(pgpassLookup(pgpass, wanted)).toBe("it:s\\x");
    expect(pgpassLookup(pgpass, { ...wanted, user: "someone" })).toBe("fallback");
    expect(pgpassLookup("10.0.0.11:5432:app:pgchaos\n", wanted)).toBeNull();
    const noEnv = parseClusterFile(PATRONI.replace("  password_env: STAGING_PGPASSWORD\n", ""), FILE);
    expect(() => databasePassword(noEnv, { PGPASSFILE: "/nonexistent/pgpass" })).toThrow(
      /no password for role pgchaos: set database.password_env, or add a line for it to \/nonexistent\/pgpass/,
    );
  });
});
