import { describe, expect, it } from "vitest";
import { haRulesOf } from "../topology/index.ts";
import { expectedRtoBound } from "./bound.ts";

/** What each topology's settings() records for the shipped kill-primary scenario. */
const PATRONI = {
  nodes: 3,
  patroni_dcs: { ttl: 10, loop_wait: 2, retry_timeout: 3, synchronous_mode: true },
};
const PG_AUTO_FAILOVER = {
  nodes: 3,
  pg_auto_failover: { node_considered_unhealthy_timeout: 3000, primary_demote_timeout: 5000 },
};
const REPMGR = {
  nodes: 3,
  repmgr: { reconnect_attempts: 2, reconnect_interval: 1, monitor_interval_secs: 1 },
};

describe("expectedRtoBound", () => {
  it("is ttl + loop_wait for Patroni, all detection", () => {
    expect(expectedRtoBound(haRulesOf("patroni"), PATRONI, { patroni: "patroni 3.0.2" })).toEqual({
      bound_s: 12,
      parts: [
        { name: "ttl", s: 10, phase: "detection" },
        { name: "loop_wait", s: 2, phase: "detection" },
      ],
      share_s: { detection: 12, election: 0, reconnection: 0 },
      formula: "ttl + loop_wait",
      note: null,
    });
  });

  it("takes Patroni's own defaults (30 + 10) for keys the DCS config leaves out", () => {
    expect(expectedRtoBound(haRulesOf("patroni"), { patroni_dcs: {} })?.bound_s).toBe(40);
  });

  it("applies the minimums Patroni 3.2 and later enforce, and says so", () => {
    // ttl 10 → 20; loop_wait 2 + 2 × retry_timeout 3 = 8 ≤ 20 stays.
    const raised = expectedRtoBound(haRulesOf("patroni"), PATRONI, { patroni: "patroni 4.0.4" });
    expect(raised?.bound_s).toBe(22);
    expect(raised?.note).toBe("Patroni 4.0.4 adjusted ttl 10 → 20");
    // 1 + 2 × 10 > 20: loop_wait drops to 1 and retry_timeout to (20 − 1) // 2 = 9.
    const rule = expectedRtoBound(
      haRulesOf("patroni"),
      { patroni_dcs: { ttl: 20, loop_wait: 10, retry_timeout: 10 } },
      { patroni: "patroni 3.2.0" },
    );
    expect(rule?.bound_s).toBe(21);
    expect(rule?.note).toBe("Patroni 3.2.0 adjusted loop_wait 10 → 1, retry_timeout 10 → 9");
    // 3.1 still takes them as given.
    expect(expectedRtoBound(haRulesOf("patroni"), PATRONI, { patroni: "patroni 3.1.2" })?.bound_s).toBe(12);
  });

  it("reads numeric strings and gives up on a setting that is not a number", () => {
    expect(
      expectedRtoBound(haRulesOf("patroni"), { patroni_dcs: { ttl: "15", loop_wait: "5" } })?.bound_s,
    ).toBe(20);
    expect(expectedRtoBound(haRulesOf("patroni"), { patroni_dcs: { ttl: "fast" } })).toBeNull();
    expect(expectedRtoBound(haRulesOf("repmgr"), { repmgr: { reconnect_attempts: -1 } })).toBeNull();
  });

  it("adds pg_auto_failover's timeouts (ms) and four 1 s keeper rounds", () => {
    const bound = expectedRtoBound(haRulesOf("pg_auto_failover"), PG_AUTO_FAILOVER);
    // 3 s + 1 s (detection) + 2 s + 5 s + 1 s (election).
    expect(bound?.bound_s).toBe(12);
    expect(bound?.parts.map((p) => [p.name, p.s, p.phase])).toEqual([
      ["node_considered_unhealthy_timeout", 3, "detection"],
      ["keeper round: the monitor acts on the next report", 1, "detection"],
      ["keeper rounds: LSN reports, prepare_promotion", 2, "election"],
      ["primary_demote_timeout", 5, "election"],
      ["keeper round: the expiry is seen on the next report", 1, "election"],
    ]);
    expect(bound?.share_s).toEqual({ detection: 4, election: 8, reconnection: 0 });
    // Defaults: 20 s + 30 s + 4 s.
    expect(expectedRtoBound(haRulesOf("pg_auto_failover"), { pg_auto_failover: {} })?.bound_s).toBe(54);
    expect(
      expectedRtoBound(haRulesOf("pg_auto_failover"), {
        pg_auto_failover: { node_considered_unhealthy_timeout: 2500 },
      })?.bound_s,
    ).toBe(36.5);
  });

  it("counts repmgr's sleeps between reconnect attempts, not after the last", () => {
    const bound = expectedRtoBound(haRulesOf("repmgr"), REPMGR);
    // 1 s monitor interval + (2 − 1) × 1 s + 1 s promote check.
    expect(bound?.bound_s).toBe(3);
    expect(bound?.parts.map((p) => [p.s, p.phase])).toEqual([
      [1, "detection"],
      [1, "election"],
      [1, "election"],
    ]);
    expect(bound?.share_s).toEqual({ detection: 1, election: 2, reconnection: 0 });
    // Defaults: 2 s + 5 × 10 s + 1 s.
    expect(expectedRtoBound(haRulesOf("repmgr"), { repmgr: {} })?.bound_s).toBe(53);
    expect(expectedRtoBound(haRulesOf("repmgr"), { repmgr: { reconnect_attempts: 1 } })?.bound_s).toBe(3);
  });

  it("is null without the settings a topology records, or for an unknown topology", () => {
    expect(expectedRtoBound(haRulesOf("patroni"), {})).toBeNull();
    expect(expectedRtoBound(haRulesOf("pg_auto_failover"), { pg_auto_failover: null })).toBeNull();
    expect(expectedRtoBound(haRulesOf("repmgr"), { repmgr: [] })).toBeNull();
    expect(expectedRtoBound(haRulesOf("stolon"), PATRONI)).toBeNull();
  });
});
