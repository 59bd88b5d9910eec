import { describe, expect, it } from "vitest";
import { formatValue, round3 } from "./format.ts";

describe("format", () => {
  it("rounds to milliseconds and stringifies values", () => {
    expect(round3(8.2000000001)).toBe(8.2);
    expect(formatValue("x")).toBe("x");
    expect(formatValue(false)).toBe("false");
    expect(formatValue({ a: 1 })).toBe('{"a":1}');
  });
});
