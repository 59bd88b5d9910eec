import { describe, expect, it } from "vitest";
import { parsePatroniLog } from "./patroni-log.ts";

describe("parsePatroniLog", () => {
  it("keeps leadership changes and drops routine loop lines and PostgreSQL's own lines", () => {
    const log = [
      "2026-11-22 00:43:09,594 INFO: Lock owner: n2; I am n1",
      "2026-11-22 00:43:10,198 INFO: no action. I am (n1), a secondary, and following a leader (n2)",
      "2026-11-22 00:43:09.152 UTC [9151] LOG:  consistent recovery state reached at 0/3000050",
      "2026-11-22 00:43:21,007 INFO: promoted self to leader by acquiring session lock",
      "2026-11-22 00:43:40,100 INFO: running pg_rewind from n3",
    ].join("\n");
    const events = parsePatroniLog(log);
    expect(events.map((e) => e.text)).toEqual([
      "promoted self to leader by acquiring session lock",
      "running pg_rewind from n3",
    ]);
    expect(events[0]?.wallMs).toBe(new Date("2026-11-22T00:43:21.007").getTime());
  });

  it("keeps Patroni 4's own adjustment of a setting the scenario asked for", () => {
    const log = "2026-12-01 22:18:00,566 WARNING: ttl=10 can't be smaller than 20, adjusting...";
    expect(parsePatroniLog(log).map((e) => e.text)).toEqual([
      "ttl=10 can't be smaller than 20, adjusting...",
    ]);
  });
});
