import type { Endpoint } from "../backend/backend.ts";

/**
 * The multi-host connection string an application would be given for these members: every host
 * in order, and libpq keeps the first that accepts writes. No credentials, no connect_timeout
 * (pg_auto_failover's formation URI has none either).
 */
export function multiHostUri(members: Endpoint[], database = "postgres"): string {
  if (members.length === 0) throw new Error("a connection string needs at least one member");
  const hosts = members.map((m) => `${m.host}:${m.port}`).join(",");
  return `postgresql://${hosts}/${database}?target_session_attrs=read-write`;
}

const URI = /^(postgres(?:ql)?:\/\/)(?:[^@/]*@)?([^/?]*)(.*)$/;

/** Each host:port of a postgres:// URI, in order (5432 when a host names no port). */
export function uriHosts(uri: string): Endpoint[] {
  const match = URI.exec(uri);
  if (!match) throw new Error(`not a postgres:// URI: ${uri}`);
  return (match[2] ?? "")
    .split(",")
    .filter(Boolean)
    .map((hostPort) => {
      const [, host = hostPort, port] = /^(.*?)(?::(\d+))?$/.exec(hostPort) ?? [];
      return { host, port: port ? Number(port) : 5432 };
    });
}

/**
 * The same URI with each host:port replaced as `dial` says: what an application inside the cluster's
 * network is given, made reachable from where the harness runs (Docker: the mapped ports), host order kept.
 */
export function withHosts(uri: string, dial: (endpoint: Endpoint) => Endpoint): string {
  const match = URI.exec(uri);
  if (!match) throw new Error(`not a postgres:// URI: ${uri}`);
  const [, scheme, , rest] = match;
  const credentials = /^postgres(?:ql)?:\/\/([^@/]*@)/.exec(uri)?.[1] ?? "";
  const hosts = uriHosts(uri)
    .map((e) => dial(e))
    .map((e) => `${e.host}:${e.port}`);
  return `${scheme}${credentials}${hosts.join(",")}${rest}`;
}

/** The URI with the harness's credentials in place of any it had; everything else left as it was. */
export function withCredentials(uri: string, user: string, password: string): string {
  const match = URI.exec(uri);
  if (!match) throw new Error(`not a postgres:// URI: ${uri}`);
  const [, scheme, hosts, rest] = match;
  return `${scheme}${encodeURIComponent(user)}:${encodeURIComponent(password)}@${hosts}${rest}`;
}

/** The URI asking libpq for another kind of node (e.g. prefer-standby for readers of replicas). */
export function withTargetSessionAttrs(uri: string, attrs: string): string {
  return withParameter(uri, "target_session_attrs", attrs);
}

/** The URI with one query parameter set (replacing it if present), its value percent-encoded. */
export function withParameter(uri: string, key: string, value: string): string {
  const [base = uri, query = ""] = uri.split("?", 2);
  const params = query.split("&").filter((param) => param !== "" && !param.startsWith(`${key}=`));
  return `${base}?${[...params, `${key}=${encodeURIComponent(value)}`].join("&")}`;
}
