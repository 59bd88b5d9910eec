import pg from "pg";
import type { PostgresEndpoint } from "../model/cluster.ts";

const CONNECT_TIMEOUT_MS = 1000;

/**
 * One short-lived connection for `use`, always closed afterwards; background socket errors are
 * ignored (the next query reports them). Rejects when the server cannot be reached.
 */
export async function withConnection<T>(
  endpoint: PostgresEndpoint,
  use: (client: pg.Client) => Promise<T>,
  connectTimeoutMs = CONNECT_TIMEOUT_MS,
): Promise<T> {
  const client = new pg.Client({ ...endpoint, connectionTimeoutMillis: connectTimeoutMs });
  client.on("error", () => {});
  try {
    await client.connect();
    return await use(client);
  } finally {
    await client.end().catch(() => {});
  }
}

async function queryOne<T>(
  endpoint: PostgresEndpoint,
  text: string,
  values: unknown[] = [],
): Promise<T | undefined> {
  return withConnection(
    endpoint,
    async (client) => (await client.query({ text, values })).rows[0] as T | undefined,
  );
}

/** Replicas streaming from this primary, as PostgreSQL itself reports them; 0 when it cannot be asked. */
export async function countStreaming(primary: PostgresEndpoint): Promise<number> {
  try {
    const row = await queryOne<{ n: number }>(
      primary,
      "select count(*)::int as n from pg_stat_replication where state = 'streaming'",
    );
    return row?.n ?? 0;
  } catch {
    return 0;
  }
}

/** Addresses of the standbys PostgreSQL itself counts as synchronous (sync or quorum); [] when it cannot be asked. */
export async function synchronousStandbyAddresses(primary: PostgresEndpoint): Promise<string[]> {
  try {
    return await withConnection(primary, async (client) => {
      const result = await client.query<{ addr: string }>(
        "select host(client_addr) as addr from pg_stat_replication where sync_state in ('sync', 'quorum')",
      );
      return result.rows.map((row) => row.addr);
    });
  } catch {
    return [];
  }
}

/**
 * Where `timeline` forked off its parent, from PostgreSQL's own timeline history file
 * (pg_wal/<tli>.history: "<parent tli>\t<switch lsn>\t<reason>" per line); null when unreadable.
 */
export async function readForkLsn(endpoint: PostgresEndpoint, timeline: number): Promise<string | null> {
  try {
    const file = `pg_wal/${timeline.toString(16).toUpperCase().padStart(8, "0")}.history`;
    const row = await queryOne<{ content: string }>(endpoint, "select pg_read_file($1) as content", [file]);
    const lines = (row?.content ?? "").split("\n").filter((line) => /^\d+\t/.test(line));
    return lines.at(-1)?.split("\t")[1] ?? null;
  } catch {
    return null;
  }
}

/** PostgreSQL parameters a scenario sets, by name, as PostgreSQL reads them (text). */
export type Parameters = Record<string, string>;

/** ALTER SYSTEM for each parameter: postgresql.auto.conf, read at the next start (or reload). */
export function alterSystem(endpoint: PostgresEndpoint, parameters: Parameters): Promise<void> {
  return withConnection(endpoint, async (client) => {
    for (const [name, value] of Object.entries(parameters)) {
      await client.query(
        `alter system set ${client.escapeIdentifier(name)} = ${client.escapeLiteral(value)}`,
      );
    }
  });
}

/** The value each parameter has in the running server (current_setting, e.g. "256MB"). */
export function currentSettings(endpoint: PostgresEndpoint, names: string[]): Promise<Parameters> {
  return withConnection(endpoint, async (client) => {
    const settings: Parameters = {};
    for (const name of names) {
      const row = (await client.query<{ value: string }>("select current_setting($1) as value", [name]))
        .rows[0];
      settings[name] = row?.value ?? "";
    }
    return settings;
  });
}
