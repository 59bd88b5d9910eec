import { describe, expect, it } from "vitest";
import type { NemesisStep } from "./nemesis.ts";
import { nemesisSchedule, nemesisSeed } from "./nemesis.ts";

const step: NemesisStep = {
  kind: "nemesis",
  faults: ["kill", "freeze", "partition", "switchover", "crash-backend"],
  targets: ["primary", "replica"],
  intervalMs: [2000, 6000],
  durationMs: [1000, 4000],
  totalMs: 120_000,
  percent: 30,
  at: "s.yaml:1:1",
};

describe("nemesis schedule", () => {
  it("is the same for the same seed and differs for another", () => {
    expect(nemesisSchedule(step, 42)).toEqual(nemesisSchedule(step, 42));
    expect(nemesisSchedule(step, 43)).not.toEqual(nemesisSchedule(step, 42));
    expect(nemesisSeed(7, 2)).toBe(nemesisSeed(7, 2));
    expect(nemesisSeed(7, 2)).not.toBe(nemesisSeed(7, 3));
  });

  it("keeps every fault, gap and length within its range, one fault at a time, all inside the total", () => {
    const schedule = nemesisSchedule(step, 1234);
    expect(schedule.length).toBeGreaterThan(10);
    let healedAt = 0;
    for (const entry of schedule) {
      const gap = entry.at_ms - healedAt;
      expect(gap).toBeGreaterThanOrEqual(2000);
      expect(gap).toBeLessThanOrEqual(6000);
      // Faults without heal (faults/index.ts: heals false) get no duration.
      if (entry.fault === "switchover" || entry.fault === "crash-backend")
        expect(entry.duration_ms).toBeNull();
      else {
        expect(entry.duration_ms).toBeGreaterThanOrEqual(Math.min(1000, step.totalMs - entry.at_ms));
        expect(entry.duration_ms).toBeLessThanOrEqual(4000);
      }
      healedAt = entry.at_ms + (entry.duration_ms ?? 0);
      expect(healedAt).toBeLessThanOrEqual(step.totalMs);
    }
    expect(new Set(schedule.map((e) => e.fault))).toEqual(new Set(step.faults));
    expect(new Set(schedule.map((e) => e.target))).toEqual(new Set(step.targets));
  });
});
