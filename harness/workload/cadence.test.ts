import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Cadence, sleepUntil } from "./cadence.ts";

describe("cadence", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "performance"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("wakes everyone due in the same millisecond with one timer", async () => {
    const at = Math.ceil(performance.now()) + 100;
    expect(sleepUntil(at)).toBe(sleepUntil(at - 0.5));
    expect(sleepUntil((at / 3) * 3)).toBe(sleepUntil(at));
    expect(sleepUntil(at + 1)).not.toBe(sleepUntil(at));
    expect(vi.getTimerCount()).toBe(2);
    await vi.advanceTimersByTimeAsync(200);
  });

  it("puts loops with commensurate periods on the same slots", async () => {
    const writer = new Cadence(20);
    const sampler = new Cadence(100);
    const slots: [string, number][] = [];
    const loop = async (name: string, cadence: Cadence, times: number) => {
      for (let i = 0; i < times; i++) {
        await cadence.next();
        slots.push([name, performance.now()]);
      }
    };
    const both = Promise.all([loop("writer", writer, 10), loop("sampler", sampler, 2)]);
    await vi.advanceTimersByTimeAsync(250);
    await both;
    const samplerSlots = slots.filter(([name]) => name === "sampler").map(([, at]) => at);
    const writerSlots = new Set(slots.filter(([name]) => name === "writer").map(([, at]) => at));
    expect(samplerSlots).toHaveLength(2);
    for (const at of samplerSlots) {
      expect(at % 100).toBe(0);
      expect(writerSlots.has(at)).toBe(true);
    }
  });

  it("goes at once after an overrun, then rejoins the grid at least half a period away", async () => {
    const cadence = new Cadence(20);
    await vi.advanceTimersByTimeAsync(75);
    const late = performance.now();
    await cadence.next();
    expect(performance.now()).toBe(late);
    let woke = 0;
    void cadence.next().then(() => {
      woke = performance.now();
    });
    await vi.advanceTimersByTimeAsync(40);
    const gap = woke - late;
    expect(gap).toBeGreaterThanOrEqual(10);
    expect(gap).toBeLessThan(30);
  });
});
