import { describe, expect, it } from "vitest";
import { formatLsn, lsnDiff, parseLsn } from "./lsn.ts";

describe("parseLsn", () => {
  it("combines the high and low hex halves", () => {
    expect(parseLsn("0/5030E50")).toBe(0x5030e50n);
    expect(parseLsn("1/0")).toBe(4_294_967_296n);
    expect(parseLsn("A/ff")).toBe((10n << 32n) | 255n);
    expect(parseLsn("FFFFFFFF/FFFFFFFF")).toBe((1n << 64n) - 1n);
  });

  it.each(["", "5030E50", "0/", "/5", "0/5030E5G", "0/5/1", " 0/5", "123456789/0", "-1/0"])(
    "throws on malformed text %j",
    (text) => {
      expect(() => parseLsn(text)).toThrow(
        `malformed LSN ${JSON.stringify(text)}: expected "<hex>/<hex>", e.g. "0/5030E50"`,
      );
    },
  );
});

describe("formatLsn", () => {
  it("prints upper-case hex halves like PostgreSQL", () => {
    expect(formatLsn(0x5030e50n)).toBe("0/5030E50");
    expect(formatLsn((3n << 32n) | 0xabn)).toBe("3/AB");
    expect(formatLsn(0n)).toBe("0/0");
  });

  it("round-trips through parseLsn", () => {
    expect(formatLsn(parseLsn("16/B374D848"))).toBe("16/B374D848");
  });

  it("throws outside the 64-bit range", () => {
    expect(() => formatLsn(-1n)).toThrow("LSN -1 is outside the 64-bit range of a WAL position");
    expect(() => formatLsn(1n << 64n)).toThrow("outside the 64-bit range");
  });
});

describe("lsnDiff", () => {
  it("returns the signed byte distance a − b", () => {
    expect(lsnDiff("0/5030F50", "0/5030E50")).toBe(256);
    expect(lsnDiff("0/5030E50", "0/5030F50")).toBe(-256);
    expect(lsnDiff("1/0", "0/FFFFFFFF")).toBe(1);
    expect(lsnDiff(0x200n, "0/100")).toBe(256);
  });

  it("throws when either side is malformed", () => {
    expect(() => lsnDiff("0/1", "zz")).toThrow('malformed LSN "zz"');
  });
});
