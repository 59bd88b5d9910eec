import { describe, expect, it } from "vitest";
import {
  formatBytes,
  formatCount,
  formatDuration,
  formatInstant,
  formatSeconds,
  nsToSeconds,
} from "./units.ts";

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

  it("formats seconds, with a dash for missing figures", () => {
    expect(formatSeconds(5.504)).toBe("5.50 s");
    expect(formatSeconds(null)).toBe("—");
    expect(formatSeconds(30.2, 1)).toBe("30.2 s");
  });

  it("groups thousands and uses binary byte units", () => {
    expect(formatCount(1234567)).toBe("1,234,567");
    expect(formatCount(12)).toBe("12");
    expect(formatBytes(368)).toBe("368 B");
    expect(formatBytes(16 * 1024 * 1024)).toBe("16.0 MiB");
    expect(formatBytes(1536)).toBe("1.50 KiB");
  });
});
