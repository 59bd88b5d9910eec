import { describe, expect, it } from "vitest";
import {
  multiHostUri,
  uriHosts,
  withCredentials,
  withHosts,
  withParameter,
  withTargetSessionAttrs,
} from "./uri.ts";

const endpoint = (host: string) => ({ host, port: 5432 });

describe("connection URIs", () => {
  it("lists every member in order and asks for a writable one", () => {
    expect(multiHostUri([endpoint("10.0.0.11"), endpoint("10.0.0.12")])).toBe(
      "postgresql://10.0.0.11:5432,10.0.0.12:5432/postgres?target_session_attrs=read-write",
    );
  });

  it("reads the hosts of a pg_auto_failover formation URI", () => {
    const uri =
      "postgres://10.0.0.12:5432,10.0.0.11:5432/postgres?target_session_attrs=read-write&sslmode=prefer";
    expect(uriHosts(uri)).toEqual([endpoint("10.0.0.12"), endpoint("10.0.0.11")]);
    expect(uriHosts("postgresql://u:p@h1,h2:6432/db")).toEqual([endpoint("h1"), { host: "h2", port: 6432 }]);
  });

  it("re-points each host at what the harness dials, keeping order, credentials and options", () => {
    const mapped = new Map([
      ["10.0.0.12", 40002],
      ["10.0.0.11", 40001],
    ]);
    const uri = "postgres://u:p@10.0.0.12:5432,10.0.0.11:5432/postgres?target_session_attrs=read-write";
    expect(withHosts(uri, (e) => ({ host: "127.0.0.1", port: mapped.get(e.host) ?? 0 }))).toBe(
      "postgres://u:p@127.0.0.1:40002,127.0.0.1:40001/postgres?target_session_attrs=read-write",
    );
  });

  it("puts credentials in, replacing any, and keeps the options", () => {
    expect(
      withCredentials("postgres://a:1,b:2/db?target_session_attrs=read-write", "postgres", "p@ss/w"),
    ).toBe("postgres://postgres:p%40ss%2Fw@a:1,b:2/db?target_session_attrs=read-write");
    expect(withCredentials("postgresql://old:x@a/db", "u", "p")).toBe("postgresql://u:p@a/db");
  });

  it("sets a parameter percent-encoded, replacing it if present (session options for search_path)", () => {
    expect(withParameter("postgres://a:1/db", "options", "-c search_path=pgchaos_x")).toBe(
      "postgres://a:1/db?options=-c%20search_path%3Dpgchaos_x",
    );
    expect(withParameter("postgres://a:1/db?options=x&sslmode=disable", "options", "y")).toBe(
      "postgres://a:1/db?sslmode=disable&options=y",
    );
  });

  it("refuses what is not a postgres URI", () => {
    expect(() => uriHosts("host=a,b")).toThrow("not a postgres:// URI");
  });

  it("asks libpq for another kind of node, keeping the other parameters", () => {
    expect(
      withTargetSessionAttrs(
        "postgres://a:1,b:2/db?sslmode=disable&target_session_attrs=read-write",
        "prefer-standby",
      ),
    ).toBe("postgres://a:1,b:2/db?sslmode=disable&target_session_attrs=prefer-standby");
    expect(withTargetSessionAttrs("postgres://a/db", "standby")).toBe(
      "postgres://a/db?target_session_attrs=standby",
    );
  });
});
