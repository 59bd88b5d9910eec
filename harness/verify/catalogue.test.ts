import { describe, expect, it } from "vitest";
import { FIGURES, formatFigure } from "./catalogue.ts";
import { EXPECTATIONS } from "./expectations.ts";

describe("FIGURES", () => {
  it("describes every expect: key with its figure's help, so the two never drift apart", () => {
    for (const spec of Object.values(EXPECTATIONS)) {
      expect(spec.description).toBe(FIGURES[spec.figure].help);
    }
  });

  it("gives every figure a label, a short label and one sentence of help", () => {
    for (const spec of Object.values(FIGURES)) {
      expect(spec.label).not.toBe("");
      expect(spec.short).not.toBe("");
      expect(spec.help).toMatch(/^[A-Z].*\.$/);
    }
  });

  it("formats each figure in its unit, on the run's figures and a group's alike", () => {
    const group = { rto_s: 5.504, lost_writes: 1234 };
    expect(formatFigure("rto_s", group)).toBe("5.50 s");
    expect(formatFigure("rto_s", { rto_s: null })).toBe("—");
    expect(formatFigure("lost_writes", group)).toBe("1,234");
    expect(formatFigure("wal_loss_bytes", { wal_loss_bytes: 368 })).toBe("368 B");
    expect(formatFigure("split_brain", { split_brain: false })).toBe("no");
  });
});
