/**
 * PostgreSQL's own record of promotions: pg_wal/<timeline>.history, one line per ancestor timeline
 * ("<parent tli>\t<switch lsn>\t<reason>"), written by the server that was promoted and copied to
 * every standby that follows it. Whatever an HA manager records, this is where a timeline forked.
 */

import type pg from "pg";
import type { TimelineFork } from "../model/record.ts";

/** The history file's name for a timeline, e.g. 2 → pg_wal/00000002.history. */
export function historyFile(timeline: number): string {
  return `pg_wal/${timeline.toString(16).toUpperCase().padStart(8, "0")}.history`;
}

/**
 * The forks of `timeline`'s ancestry, oldest first: each line names a parent and where it ended;
 * the timeline it ended into is the next line's parent, or `timeline` itself for the last line.
 */
export function parseTimelineHistory(text: string, timeline: number): TimelineFork[] {
  const lines = text
    .split("\n")
    .map((line) => /^(\d+)\t([0-9A-Fa-f]+\/[0-9A-Fa-f]+)\t?(.*)$/.exec(line.trim()))
    .filter((match): match is RegExpExecArray => match !== null);
  return lines.map((match, index) => ({
    parent: Number(match[1]),
    fork_lsn: (match[2] ?? "").toUpperCase(),
    reason: (match[3] ?? "").trim(),
    timeline: index + 1 < lines.length ? Number(lines[index + 1]?.[1]) : timeline,
  }));
}

/**
 * The ancestry of `timeline` as this server's history file tells it; [] for timeline 1 (no file).
 * pg_read_file needs a superuser or pg_read_server_files: without them this rejects, and the fork
 * point stays unknown rather than guessed.
 */
export async function readTimelineHistory(
  client: pg.Client,
  timeline: number,
  timeoutMs = 5000,
): Promise<TimelineFork[]> {
  if (timeline <= 1) return [];
  const result = await client.query<{ content: string }>({
    text: "select pg_read_file($1) as content",
    values: [historyFile(timeline)],
    query_timeout: timeoutMs,
  } as pg.QueryConfig);
  return parseTimelineHistory(result.rows[0]?.content ?? "", timeline);
}

/** The timelines a member's history descends from, itself included. */
export function ancestry(timeline: number, forks: readonly TimelineFork[]): Set<number> {
  return new Set([timeline, ...forks.map((fork) => fork.parent)]);
}
