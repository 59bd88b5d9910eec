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

  it("keeps the leader race that follows an expired leader key", () => {
    const log = [
      "2026-11-22 01:10:53,207 INFO: no action. I am (n3), a secondary, and following a leader (n2)",
      "2026-11-22 01:10:53,388 WARNING: Request failed to n2: GET http://10.233.17.12:8008/patroni (HTTPConnectionPool(host='10.233.17.12', port=8008): Max retries exceeded)",
      '2026-11-22 01:10:53,390 INFO: Got response from n1 http://10.233.17.11:8008/patroni: {"state": "running", "role": "replica"}',
      "2026-11-22 01:10:53,448 INFO: following a different leader because i am not the healthiest node",
      "2026-11-22 01:10:53,478 INFO: Lock owner: n3; I am n1",
    ].join("\n");
    expect(parsePatroniLog(log).map((e) => e.text.slice(0, 30))).toEqual([
      "Request failed to n2: GET http",
      "Got response from n1 http://10",
      "following a different leader b",
    ]);
  });

  it("keeps Patroni 4's own adjustment of a setting the scenario asked for", () => {
    const log = "2026-12-01 22:18:00,566 WARNING: ttl=10 can't be smaller than 20, adjusting...";
    expect(parsePatroniLog(log).map((e) => e.text)).toEqual([
      "ttl=10 can't be smaller than 20, adjusting...",
    ]);
  });
});
