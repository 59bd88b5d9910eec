import { describe, expect, it } from "vitest";
import type { Promotion } from "../model/figures.ts";
import { derivePromotions } from "./promotions.ts";
import { cleanFailover, failedWrite, okWrite, promotionOf } from "./test-helpers.ts";
import { measureWalLoss } from "./wal-loss.ts";

function promotion(member: string, timeline: number, forkLsn: string | null): Promotion {
  return promotionOf({ member, timeline, fork_lsn: forkLsn, fork_source: forkLsn ? "ha manager" : null });
}

describe("measureWalLoss", () => {
  it("finds no loss when the fork is at the last acknowledged LSN", () => {
    const { history, timeline } = cleanFailover();
    expect(measureWalLoss(derivePromotions(timeline), history)).toEqual({
      wal_loss_bytes: 0,
      unknown: null,
      per_promotion: [
        {
          member: "n2",
          timeline: 2,
          kind: "past-fork",
          measured_timeline: 1,
          fork_lsn: "0/3000100",
          max_acked_lsn: "0/3000100",
          loss_bytes: 0,
          unknown: null,
        },
      ],
      problems: [],
    });
  });

  it("counts the bytes acknowledged on the old timeline beyond the fork LSN", () => {
    const history = [
      okWrite(1, "n1", 1, 1, 1.1, "0/3000100"),
      okWrite(2, "n1", 1, 2, 2.1, "0/3000358"),
      okWrite(3, "n1", 1, 3, 3.1, "0/3000200"),
      // Higher LSNs on other timelines must not count against the tl 1 → 2 fork.
      okWrite(4, "n2", 2, 11, 11.1, "0/3009000"),
    ];
    const result = measureWalLoss([promotion("n2", 2, "0/3000150")], history);
    expect(result.per_promotion[0]?.max_acked_lsn).toBe("0/3000358");
    expect(result.per_promotion[0]?.loss_bytes).toBe(0x358 - 0x150);
    expect(result.wal_loss_bytes).toBe(520);
  });

  it("sums the loss over promotions, and is unknown (never zero) when one has no fork LSN", () => {
    const history = [
      okWrite(1, "n1", 1, 1, 1.1, "0/1000"),
      okWrite(2, "n2", 2, 5, 5.1, "1/10"),
      okWrite(3, "n1", 3, 9, 9.1, "1/400"),
    ];
    const promotions = [
      promotion("n2", 2, "0/F00"),
      promotion("n1", 3, "0/FFFFFFF0"),
      promotion("n3", 4, null),
    ];
    const result = measureWalLoss(promotions, history);
    expect(result.per_promotion.map((detail) => detail.loss_bytes)).toEqual([0x100, 0x20, null]);
    expect(result.wal_loss_bytes).toBeNull();
    expect(result.unknown).toBe("the promotion of n3 to timeline 4 has no fork LSN");
    expect(measureWalLoss(promotions.slice(0, 2), history).wal_loss_bytes).toBe(288);
  });

  it("counts a promotion without a fork LSN as nothing lost when nothing was acknowledged on its parent", () => {
    const history = [okWrite(1, "n2", 2, 5, 5.1, "1/10")];
    const result = measureWalLoss([promotion("n3", 2, null)], [okWrite(1, "n3", 2, 5, 5.1, "1/10")]);
    expect(result.wal_loss_bytes).toBe(0);
    expect(measureWalLoss([promotion("n3", 3, null)], history).wal_loss_bytes).toBeNull();
  });

  it("measures an abandoned timeline whole when the final primary does not descend from it", () => {
    // n3 promoted to timeline 2 at 0/5000000 and acknowledged up to 0/5000400; the thawed n1 kept
    // timeline 1 and the cluster followed it: timeline 2's acknowledged WAL is gone, timeline 1's tail is not.
    const history = [
      okWrite(1, "n1", 1, 1, 1.1, "0/4FFFF00"),
      okWrite(2, "n3", 2, 5, 5.1, "0/5000400"),
      okWrite(3, "n1", 1, 9, 9.1, "0/5001000"),
    ];
    const result = measureWalLoss([promotion("n3", 2, "0/5000000")], history, new Set([1]));
    expect(result.per_promotion).toEqual([
      expect.objectContaining({ kind: "abandoned", measured_timeline: 2, loss_bytes: 0x400 }),
    ]);
    expect(result.wal_loss_bytes).toBe(0x400);
    // The same record with the promotion kept: timeline 1's tail past the fork is what went.
    expect(measureWalLoss([promotion("n3", 2, "0/5000000")], history, new Set([1, 2])).wal_loss_bytes).toBe(
      0x1000,
    );
  });

  it("ignores failed writes; an acknowledgement without an LSN makes the loss unknown", () => {
    const history = [okWrite(1, "n1", 1, 1, 1.1, "0/100"), failedWrite(3, 3, 3.1)];
    expect(measureWalLoss([promotion("n2", 2, "0/80")], history).wal_loss_bytes).toBe(128);
    const unmeasured = measureWalLoss(
      [promotion("n2", 2, "0/80")],
      [...history, okWrite(2, "n1", 1, 2, 2.1, null)],
    );
    expect(unmeasured.wal_loss_bytes).toBeNull();
    expect(unmeasured.unknown).toBe("1 writes acknowledged on timeline 1 carried no LSN");
  });

  it("reports zero loss when nothing was acknowledged on the old timeline", () => {
    const result = measureWalLoss([promotion("n2", 2, "0/80")], [okWrite(1, "n2", 2, 1, 1.1, "0/900")]);
    expect(result.per_promotion[0]).toMatchObject({ max_acked_lsn: null, loss_bytes: 0 });
  });

  it("turns malformed LSNs into problems instead of ignoring them", () => {
    const history = [okWrite(7, "n1", 1, 1, 1.1, "bogus"), okWrite(8, "n1", 1, 2, 2.1, "0/200")];
    const result = measureWalLoss([promotion("n2", 2, "0/100"), promotion("n3", 3, "x/y")], history);
    expect(result.problems).toEqual([
      'write 7 was acknowledged with malformed LSN "bogus"',
      'the promotion of n3 to timeline 3 has malformed fork LSN "x/y"',
    ]);
    expect(result.wal_loss_bytes).toBeNull();
  });
});
