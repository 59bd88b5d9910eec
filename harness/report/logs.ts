/**
 * Node logs around the faults: the lines of each copied log whose timestamp falls from a few
 * seconds before the first fault to some time after the last heal, with passwords masked.
 * Parsing and selection are pure; only `readNodeLogs` touches the disk.
 */
import { readFile, readdir } from "node:fs/promises";
import { basename, join } from "node:path";
import type { RunRecord } from "../model/record.ts";
import { runEndNs } from "./model.ts";
import { maskText } from "./redact.ts";

export type LogLevel = "error" | "warn" | "";

export interface LogLine {
  /** Run time of the line's stamp; lines without their own stamp inherit the previous line's. */
  at_ns: number;
  /** The line happened within [at_ns, at_ns + resolution_ns): 1 s for pg_autoctl's "HH:MM:SS". */
  resolution_ns: number;
  text: string;
  level: LogLevel;
}

export interface NodeLog {
  member: string;
  /** Which of the member's logs, from the file name: "n1-postgres.log" → "postgres"; "" for "n1.log". */
  part: string;
  /** Path relative to the run directory, e.g. "logs/n1.log". */
  file: string;
  lines: LogLine[];
  /** Lines of the whole file. */
  total_lines: number;
  /** Lines inside the window that were left out to keep the page small. */
  omitted: number;
  /** The excerpt's span in run time; null when the run had no fault (then the tail is shown). */
  window: { from_ns: number; to_ns: number } | null;
}

/** Before the first fault and after the last heal: enough to see the lead-up and the recovery. */
export const LOG_BEFORE_NS = 5e9;
export const LOG_AFTER_NS = 30e9;
export const LOG_MAX_LINES = 400;
const MAX_LINE_CHARS = 2000;

const ETCD_TS = /"ts":"([^"]+)"/;
/** Optionally bracketed, as repmgr writes it: "[2026-11-22 01:26:57] [NOTICE]". */
const DATETIME =
  /^\[?(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(?:\s*(Z|UTC|[+-]\d{2}:?\d{2}))?\]?/;
const TIME_ONLY = /^(\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?\s/;
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");
const HOUR_MS = 3_600_000;

function fractionMs(digits: string | undefined): number {
  return digits === undefined ? 0 : Number(`0.${digits}`) * 1000;
}

/** How precise a stamp is: "01:11:23" says only that the line came within that second. */
function resolutionMs(digits: string | undefined): number {
  return digits === undefined ? 1000 : 10 ** (3 - digits.length);
}

export interface LineTime {
  /** Epoch ms of the stamp. */
  ms: number;
  /** The line happened in [ms, ms + resolution_ms). */
  resolution_ms: number;
}

/**
 * The wall-clock time of a log line, or null. Understands etcd's JSON ("ts"), Patroni's and
 * PostgreSQL's "YYYY-MM-DD HH:MM:SS,mmm [UTC]" and pg_autoctl's bare "HH:MM:SS". Times without a
 * zone are the local time of this machine, which ran the cluster; a bare time of day takes the
 * date that puts it nearest the run's start.
 */
export function lineTime(line: string, startedAtMs: number): LineTime | null {
  const etcd = ETCD_TS.exec(line);
  if (etcd?.[1]) {
    const t = Date.parse(etcd[1]);
    const frac = /\.(\d+)/.exec(etcd[1])?.[1];
    return Number.isNaN(t) ? null : { ms: t, resolution_ms: resolutionMs(frac) };
  }
  const dt = DATETIME.exec(line);
  if (dt) {
    const [, y, mo, d, h, mi, s, frac, zone] = dt;
    const ms = fractionMs(frac);
    const resolution_ms = resolutionMs(frac);
    if (zone === undefined) {
      const local = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
      return { ms: local.getTime(), resolution_ms };
    }
    const utc = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`) + ms;
    if (zone === "Z" || zone === "UTC") return { ms: utc, resolution_ms };
    const sign = zone.startsWith("-") ? -1 : 1;
    const hh = Number(zone.slice(1, 3));
    const mm = Number(zone.slice(-2));
    return { ms: utc - sign * (hh * 60 + mm) * 60_000, resolution_ms };
  }
  const tod = TIME_ONLY.exec(line);
  if (tod) {
    const [, h, mi, s, frac] = tod;
    const start = new Date(startedAtMs);
    let t = new Date(
      start.getFullYear(),
      start.getMonth(),
      start.getDate(),
      Number(h),
      Number(mi),
      Number(s),
      fractionMs(frac),
    ).getTime();
    if (t < startedAtMs - 12 * HOUR_MS) t += 24 * HOUR_MS;
    else if (t > startedAtMs + 12 * HOUR_MS) t -= 24 * HOUR_MS;
    return { ms: t, resolution_ms: resolutionMs(frac) };
  }
  return null;
}

export function lineLevel(line: string): LogLevel {
  if (/\b(ERROR|FATAL|PANIC|CRITICAL)\b|"level":"(error|fatal|panic|dpanic)"/i.test(line)) return "error";
  if (/\bWARN(ING)?\b|"level":"warn"/i.test(line)) return "warn";
  return "";
}

/** From LOG_BEFORE_NS before the first fault to LOG_AFTER_NS after the last fault event. */
export function logWindow(record: RunRecord): { from_ns: number; to_ns: number } | null {
  const faults = record.timeline.filter((e) => e.kind === "fault");
  if (faults.length === 0) return null;
  const first = Math.min(...faults.map((e) => e.at_ns));
  const last = Math.max(...faults.map((e) => e.at_ns));
  return {
    from_ns: Math.max(0, first - LOG_BEFORE_NS),
    to_ns: Math.min(runEndNs(record) + LOG_AFTER_NS, last + LOG_AFTER_NS),
  };
}

/** Pure: the excerpt of one log file's text. */
export function excerptLog(
  member: string,
  part: string,
  file: string,
  text: string,
  startedAtMs: number,
  window: { from_ns: number; to_ns: number } | null,
  maxLines = LOG_MAX_LINES,
): NodeLog {
  const raw = text.split("\n");
  if (raw.at(-1) === "") raw.pop();
  const parsed: LogLine[] = [];
  let last: { at_ns: number; resolution_ns: number } | null = null;
  for (const original of raw) {
    const line = original.replace(ANSI, "").replace(/\r$/, "");
    const time = lineTime(line, startedAtMs);
    if (time !== null) {
      last = { at_ns: Math.round((time.ms - startedAtMs) * 1e6), resolution_ns: time.resolution_ms * 1e6 };
    }
    // Lines before the first stamp cannot be placed in time.
    if (last === null) continue;
    const clipped = line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)} …` : line;
    parsed.push({ ...last, text: maskText(clipped), level: lineLevel(line) });
  }
  const inWindow =
    window === null
      ? parsed.slice(-maxLines)
      : parsed.filter((l) => l.at_ns + l.resolution_ns > window.from_ns && l.at_ns <= window.to_ns);
  return {
    member,
    part,
    file,
    lines: inWindow.slice(0, maxLines),
    total_lines: raw.length,
    omitted: Math.max(0, inWindow.length - maxLines),
    window,
  };
}

/** "n1-postgres" → n1's "postgres" log, for a member n1; the longest matching member name wins. */
export function logOwner(base: string, members: string[]): { member: string; part: string } {
  const byLength = [...members].sort((a, b) => b.length - a.length);
  for (const m of byLength) {
    if (base === m) return { member: m, part: "" };
    if (base.startsWith(`${m}-`)) return { member: m, part: base.slice(m.length + 1) };
  }
  return { member: base, part: "" };
}

/**
 * Reads `<logsDir>/*.log` (one or more files per member, e.g. "n1.log", "n1-postgres.log"), in
 * the order the record lists its members.
 */
export async function readNodeLogs(logsDir: string, record: RunRecord): Promise<NodeLog[]> {
  let names: string[];
  try {
    names = (await readdir(logsDir)).filter((name) => name.endsWith(".log"));
  } catch {
    return [];
  }
  const memberNames = record.members.map((m) => m.name);
  const order = new Map(memberNames.map((m, i) => [m, i]));
  const files = names.map((name) => ({ name, ...logOwner(basename(name, ".log"), memberNames) }));
  files.sort(
    (a, b) =>
      (order.get(a.member) ?? order.size) - (order.get(b.member) ?? order.size) ||
      a.member.localeCompare(b.member) ||
      a.part.localeCompare(b.part),
  );
  const startedAtMs = Date.parse(record.started_at);
  // Without a start time, log times cannot be placed on the run's clock: show the tail instead.
  const window = Number.isFinite(startedAtMs) ? logWindow(record) : null;
  const logs: NodeLog[] = [];
  for (const f of files) {
    const text = await readFile(join(logsDir, f.name), "utf8");
    logs.push(excerptLog(f.member, f.part, `logs/${f.name}`, text, startedAtMs, window));
  }
  return logs;
}
