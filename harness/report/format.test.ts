import { describe, expect, it } from "vitest";
import { formatBytes, formatCount, formatSeconds, formatValue, round3 } from "./format.ts";

describe("format", () => {
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

  it("rounds to milliseconds and stringifies values", () => {
    expect(round3(8.2000000001)).toBe(8.2);
    expect(formatValue("x")).toBe("x");
    expect(formatValue(false)).toBe("false");
    expect(formatValue({ a: 1 })).toBe('{"a":1}');
  });
});
