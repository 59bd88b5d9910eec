import { describe, expect, it } from "vitest";
import { formatDuration, formatInstant, nsToSeconds } from "./units.ts";

describe("units", () => {
  it("converts nanoseconds to seconds", () => {
    expect(nsToSeconds(5_210_000_000)).toBe(5.21);
  });

  it("formats durations with millisecond precision and trailing zeros", () => {
    expect(formatDuration(1_240_000_000)).toBe("1.240 s");
    expect(formatDuration(0)).toBe("0.000 s");
  });

  it("formats instants without trailing zeros, rounded to milliseconds", () => {
    expect(formatInstant(12_300_000_000)).toBe("12.3 s");
    expect(formatInstant(12_345_678_901)).toBe("12.346 s");
    expect(formatInstant(0)).toBe("0 s");
  });
});
