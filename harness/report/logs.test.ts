import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { excerptLog, lineLevel, lineTime, logOwner, logWindow, readNodeLogs } from "./logs.ts";
import { fixtureRecord } from "./test-fixture.ts";

const STARTED = Date.parse("2026-11-22T01:10:34.710Z");
/** Local wall-clock ms, as the cluster's processes on this machine stamp their lines. */
const local = (h: number, m: number, s: number, ms = 0) => new Date(2026, 10, 22, h, m, s, ms).getTime();

describe("lineTime", () => {
  it("reads etcd's JSON ts, in UTC, to the millisecond", () => {
    const line = `{"level":"warn","ts":"2026-11-22T01:10:34.901Z","caller":"auth/store.go:1380","msg":"simple token"}`;
    expect(lineTime(line, STARTED)).toEqual({ ms: Date.parse("2026-11-22T01:10:34.901Z"), resolution_ms: 1 });
  });

  it("reads Patroni's local 'YYYY-MM-DD HH:MM:SS,mmm'", () => {
    const line = "2026-11-22 01:10:35,866 ERROR: Failed to get list of machines";
    expect(lineTime(line, STARTED)).toEqual({ ms: local(1, 10, 35, 866), resolution_ms: 1 });
  });

  it("reads PostgreSQL's stamp with its zone", () => {
    expect(lineTime("2026-11-22 01:10:44.277 UTC [22291] FATAL:  could not receive", STARTED)?.ms).toBe(
      Date.parse("2026-11-22T01:10:44.277Z"),
    );
    expect(lineTime("2026-11-22 03:10:44.277 +02:00 [1] LOG: x", STARTED)?.ms).toBe(
      Date.parse("2026-11-22T01:10:44.277Z"),
    );
  });

  it("reads pg_autoctl's bare HH:MM:SS as a whole second on the run's day", () => {
    expect(lineTime("01:11:23 27166 INFO  Found a stale pidfile", STARTED)).toEqual({
      ms: local(1, 11, 23),
      resolution_ms: 1000,
    });
  });

  it("puts a bare time past midnight on the next day", () => {
    const lateStart = new Date(2026, 10, 22, 23, 59, 50).getTime();
    expect(lineTime("00:00:05 1 INFO x", lateStart)?.ms).toBe(new Date(2026, 10, 23, 0, 0, 5).getTime());
  });

  it("reads repmgr's bracketed local stamp, to the second", () => {
    expect(lineTime("[2026-11-22 01:26:57] [NOTICE] repmgrd (repmgrd 5.3.3) starting up", STARTED)).toEqual({
      ms: local(1, 26, 57),
      resolution_ms: 1000,
    });
  });

  it("has no time for continuation lines", () => {
    expect(lineTime("\tThis probably means the server terminated abnormally", STARTED)).toBeNull();
    expect(lineTime("  pg_control version number: 1300", STARTED)).toBeNull();
  });
});

describe("lineLevel", () => {
  it.each([
    ["2026-11-22 01:10:44.277 UTC [1] FATAL:  could not connect", "error"],
    ["2026-11-22 01:10:35,866 ERROR: Failed", "error"],
    ["01:11:23 27166 WARN  Removing the stale pid file", "warn"],
    [`{"level":"warn","ts":"x","msg":"slow"}`, "warn"],
    ["[2026-11-22 01:27:10] [ERROR] unable to connect to upstream node", "error"],
    ["2026-11-22 01:10:41,029 INFO: no action", ""],
  ])("%s → %j", (line, level) => {
    expect(lineLevel(line)).toBe(level);
  });
});

describe("logWindow", () => {
  it("spans 5 s before the first fault to 30 s after the last heal", () => {
    expect(logWindow(fixtureRecord())).toEqual({ from_ns: 0, to_ns: 50e9 });
  });

  it("is null without a fault", () => {
    const record = fixtureRecord();
    record.timeline = record.timeline.filter((e) => e.kind !== "fault");
    expect(logWindow(record)).toBeNull();
  });
});

describe("excerptLog", () => {
  const start = Date.parse("2025-01-01T12:00:00Z");
  const text = [
    "no stamp yet: dropped",
    '{"level":"info","ts":"2025-01-01T12:00:01.000Z","msg":"before the window"}',
    '{"level":"info","ts":"2025-01-01T12:00:06.000Z","msg":"in"}',
    "  continuation of the line above",
    '{"level":"error","ts":"2025-01-01T12:00:07.500Z","msg":"dsn postgres://u:hunter2@h/db password=hunter2"}',
    '{"level":"info","ts":"2025-01-01T12:01:00.000Z","msg":"after"}',
    "",
  ].join("\n");

  it("keeps the window's lines, continuation lines with their stamp, passwords masked", () => {
    const log = excerptLog("e1", "", "logs/e1.log", text, start, { from_ns: 5e9, to_ns: 30e9 });
    expect(log.total_lines).toBe(6);
    expect(log.omitted).toBe(0);
    expect(log.lines.map((l) => [l.at_ns / 1e9, l.level])).toEqual([
      [6, ""],
      [6, ""],
      [7.5, "error"],
    ]);
    expect(log.lines[1]?.text).toBe("  continuation of the line above");
    expect(log.lines[2]?.text).toContain("postgres://u:********@h/db password=********");
    expect(JSON.stringify(log)).not.toContain("hunter2");
  });

  it("caps the excerpt and counts what it left out", () => {
    const log = excerptLog("e1", "", "logs/e1.log", text, start, { from_ns: 0, to_ns: 100e9 }, 2);
    expect(log.lines).toHaveLength(2);
    expect(log.omitted).toBe(3);
  });

  it("shows the tail when the run had no fault", () => {
    const log = excerptLog("e1", "", "logs/e1.log", text, start, null, 2);
    expect(log.lines.map((l) => l.at_ns / 1e9)).toEqual([7.5, 60]);
  });

  it("keeps a whole-second line whose second overlaps the window start", () => {
    const log = excerptLog("n1", "", "logs/n1.log", "12:00:04 1 INFO x\n", start, {
      from_ns: 4.5e9,
      to_ns: 9e9,
    });
    expect(log.lines).toHaveLength(
      Date.parse("2025-01-01T12:00:04Z") === new Date(2025, 0, 1, 12, 0, 4).getTime() ? 1 : 0,
    );
  });
});

describe("readNodeLogs", () => {
  it("reads every member's log in the record's member order, and nothing when there are none", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pgchaos-logs-"));
    try {
      const record = fixtureRecord();
      expect(await readNodeLogs(join(dir, "missing"), record)).toEqual([]);
      await mkdir(join(dir, "logs"));
      for (const name of ["e1", "n2", "n1-postgres", "n1", "other"]) {
        await writeFile(join(dir, "logs", `${name}.log`), '{"ts":"2025-01-01T12:00:04.000Z","msg":"x"}\n');
      }
      await writeFile(join(dir, "logs", "notes.txt"), "ignored");
      const logs = await readNodeLogs(join(dir, "logs"), record);
      expect(logs.map((l) => [l.member, l.part, l.file, l.lines.length])).toEqual([
        ["n1", "", "logs/n1.log", 1],
        ["n1", "postgres", "logs/n1-postgres.log", 1],
        ["n2", "", "logs/n2.log", 1],
        ["e1", "", "logs/e1.log", 1],
        ["other", "", "logs/other.log", 1],
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("logOwner", () => {
  it("gives a file to the longest member name it starts with", () => {
    expect(logOwner("n1-repmgrd", ["n1", "n10"])).toEqual({ member: "n1", part: "repmgrd" });
    expect(logOwner("n10", ["n1", "n10"])).toEqual({ member: "n10", part: "" });
    expect(logOwner("witness-postgres", ["n1", "witness"])).toEqual({ member: "witness", part: "postgres" });
    expect(logOwner("stray", ["n1"])).toEqual({ member: "stray", part: "" });
  });
});
