import { describe, expect, it } from "vitest";
import { checkLostWrites } from "./lost-writes.ts";
import { cleanFailover, failedWrite, okWrite, unknownWrite } from "./test-helpers.ts";

describe("checkLostWrites", () => {
  it("finds nothing lost when every acknowledged write is present", () => {
    const { history, final } = cleanFailover();
    expect(checkLostWrites(history, final.ids)).toEqual({
      lost_ids: [],
      unknown_ids: [],
      unknown_found_ids: [],
      problems: [],
    });
  });

  it("lists acknowledged writes absent from the final primary, ascending", () => {
    const history = [
      okWrite(9, "n1", 1, 3, 3.1),
      okWrite(2, "n1", 1, 1, 1.1),
      okWrite(5, "n1", 1, 2, 2.1),
      okWrite(7, "n2", 2, 4, 4.1),
    ];
    expect(checkLostWrites(history, [5, 7]).lost_ids).toEqual([2, 9]);
  });

  it("never counts an absent unknown write as lost", () => {
    const history = [okWrite(1, "n1", 1, 1, 1.1), unknownWrite(2, 2, 2.5)];
    expect(checkLostWrites(history, [1])).toEqual({
      lost_ids: [],
      unknown_ids: [2],
      unknown_found_ids: [],
      problems: [],
    });
  });

  it("reports a present unknown write as found, not as acknowledged", () => {
    const history = [okWrite(1, "n1", 1, 1, 1.1), unknownWrite(3, 2, 2.5), unknownWrite(2, 2, 2.5)];
    expect(checkLostWrites(history, [1, 3])).toEqual({
      lost_ids: [],
      unknown_ids: [2, 3],
      unknown_found_ids: [3],
      problems: [],
    });
  });

  it("ignores absent failed writes", () => {
    const history = [failedWrite(1, 1, 1.1)];
    expect(checkLostWrites(history, [])).toEqual({
      lost_ids: [],
      unknown_ids: [],
      unknown_found_ids: [],
      problems: [],
    });
  });

  it("reports a failed write that is present as a problem", () => {
    const history = [failedWrite(8, 1, 1.1), failedWrite(4, 2, 2.1), okWrite(5, "n1", 1, 3, 3.1)];
    expect(checkLostWrites(history, [4, 5, 8]).problems).toEqual([
      "write 4 failed but is present on the final primary",
      "write 8 failed but is present on the final primary",
    ]);
  });

  it("reports an unreadable final state instead of claiming nothing was lost", () => {
    const history = [okWrite(1, "n1", 1, 1, 1.1), unknownWrite(2, 2, 2.5)];
    expect(checkLostWrites(history, null)).toEqual({
      lost_ids: null,
      unknown_ids: [2],
      unknown_found_ids: [],
      problems: ["final state unreadable: lost writes unknown"],
    });
  });
});
