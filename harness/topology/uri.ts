import type { PostgresEndpoint } from "./topology.ts";

/**
 * The multi-host connection string an application would be given for these members: every host
 * in order, and libpq keeps the first that accepts writes. No credentials, no connect_timeout
 * (pg_auto_failover's formation URI has none either).
 */
export function multiHostUri(members: PostgresEndpoint[]): string {
  const [first] = members;
  if (!first) throw new Error("a connection string needs at least one member");
  const hosts = members.map((m) => `${m.host}:${m.port}`).join(",");
  return `postgresql://${hosts}/${first.database}?target_session_attrs=read-write`;
}

const URI = /^(postgres(?:ql)?:\/\/)(?:[^@/]*@)?([^/?]*)(.*)$/;

/** The host part of each host:port of a postgres:// URI, in order. */
export function uriHosts(uri: string): string[] {
  const match = URI.exec(uri);
  if (!match) throw new Error(`not a postgres:// URI: ${uri}`);
  return (match[2] ?? "")
    .split(",")
    .filter(Boolean)
    .map((hostPort) => hostPort.replace(/:\d+$/, ""));
}

/** The URI with the harness's credentials in place of any it had; everything else left as it was. */
export function withCredentials(uri: string, user: string, password: string): string {
  const match = URI.exec(uri);
  if (!match) throw new Error(`not a postgres:// URI: ${uri}`);
  const [, scheme, hosts, rest] = match;
  return `${scheme}${encodeURIComponent(user)}:${encodeURIComponent(password)}@${hosts}${rest}`;
}
