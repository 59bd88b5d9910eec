import { describe, expect, it } from "vitest";
import { LEFT, PLOT_W, tickStep, ticks, xScale } from "./axis.ts";
import { formatLatency, niceCeil } from "./chart.ts";

describe("axis", () => {
  it("picks a round tick step", () => {
    expect(tickStep(30)).toBe(5);
    expect(tickStep(1)).toBe(0.1);
    expect(tickStep(600)).toBe(60);
  });

  it("labels ticks from the run's start, or relative to a fault when the origin is one", () => {
    expect(ticks({ from_ns: 0, to_ns: 20e9, origin_ns: 0 }).map((t) => t.label)).toEqual([
      "0 s",
      "2 s",
      "4 s",
      "6 s",
      "8 s",
      "10 s",
      "12 s",
      "14 s",
      "16 s",
      "18 s",
      "20 s",
    ]);
    const relative = ticks({ from_ns: 7e9, to_ns: 30e9, origin_ns: 10e9 });
    expect(relative.map((t) => t.label)).toEqual([
      "−2 s",
      "0 s",
      "+2 s",
      "+4 s",
      "+6 s",
      "+8 s",
      "+10 s",
      "+12 s",
      "+14 s",
      "+16 s",
      "+18 s",
      "+20 s",
    ]);
    expect(relative[1]?.ns).toBe(10e9);
  });

  it("maps the window onto the plot, clamping what lies outside", () => {
    const x = xScale({ from_ns: 10e9, to_ns: 20e9, origin_ns: 0 });
    expect(x(10e9)).toBe(LEFT);
    expect(x(20e9)).toBe(LEFT + PLOT_W);
    expect(x(0)).toBe(LEFT);
    expect(x(15e9)).toBe(LEFT + PLOT_W / 2);
  });
});

describe("chart scales", () => {
  it("ends the rate axis on a round number", () => {
    expect(niceCeil(87)).toBe(100);
    expect(niceCeil(120)).toBe(200);
    expect(niceCeil(230)).toBe(250);
    expect(niceCeil(0)).toBe(1);
  });

  it("prints latencies the way people read them", () => {
    expect(formatLatency(420_000)).toBe("0.42 ms");
    expect(formatLatency(4_000_000)).toBe("4.0 ms");
    expect(formatLatency(73_750_232)).toBe("74 ms");
    expect(formatLatency(1_500_000_000)).toBe("1.50 s");
  });
});
