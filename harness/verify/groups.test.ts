import { describe, expect, it } from "vitest";
import { groupFigures } from "./groups.ts";
import { failedWrite, faultInjected, okWrite } from "./test-helpers.ts";

describe("groupFigures", () => {
  it("measures each writer group on its own: a proxy recovers later than direct routing", () => {
    const viaProxy = (op: ReturnType<typeof okWrite>) => ({ ...op, group: "haproxy", writer: "haproxy/w1" });
    const history = [
      okWrite(1, "n1", 1, 9, 9.01),
      viaProxy(okWrite(2, "n1", 1, 9.5, 9.51)),
      failedWrite(3, 10.1, 10.2),
      okWrite(4, "n2", 2, 15, 15.2),
      viaProxy(failedWrite(5, 10.1, 10.2)),
      viaProxy(okWrite(6, "n2", 2, 17, 17.9)),
    ];
    const figures = groupFigures(history, [faultInjected(10)], [2]);
    expect(Object.keys(figures)).toEqual(["direct", "haproxy"]);
    expect(figures.direct).toEqual({
      rto_s: 5.2,
      max_write_gap_s: 6.19,
      acknowledged_writes: 2,
      failed_writes: 1,
      unknown_writes: 0,
      lost_writes: 0,
    });
    expect(figures.haproxy?.rto_s).toBe(7.9);
    expect(figures.haproxy?.lost_writes).toBe(1);
  });
});
