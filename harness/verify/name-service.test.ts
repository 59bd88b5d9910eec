import { describe, expect, it } from "vitest";
import type { WriteOperation } from "../model/history.ts";
import type { NameServiceRecord } from "../model/record.ts";
import type { TimelineEvent } from "../model/timeline.ts";
import { verify } from "./index.ts";
import { checkNameService } from "./name-service.ts";
import {
  failedWrite,
  ns,
  okWrite,
  promotionOf,
  promotionReported,
  runRecord,
  unknownWrite,
} from "./test-helpers.ts";

const SERVICE: NameServiceRecord = {
  name: "primary.pgchaos.internal",
  interval_s: 30,
  ttl_s: 5,
  groups: ["dns", "beside"],
};

function repointed(atS: number, from: string | null, to: string): TimelineEvent {
  return {
    at_ns: ns(atS),
    kind: "repoint",
    source: "dns re-pointer",
    name: SERVICE.name,
    from,
    to,
    text: `Promote Replica: ${SERVICE.name} → ${to}`,
  };
}

const byName = (op: WriteOperation, group = "dns"): WriteOperation => ({
  ...op,
  group,
  writer: `${group}/w1`,
});

const PROMOTION = promotionOf({ at_ns: ns(14), member: "n2", timeline: 2 });

describe("checkNameService", () => {
  it("reports nothing stale when every write by name reached the primary of its time", () => {
    const history = [
      byName(okWrite(1, "n1", 1, 10, 10.01)),
      byName(failedWrite(2, 15, 16, null)),
      byName(okWrite(3, "n2", 2, 40, 40.01)),
      // Not by name: the harness's own routing is not this check's business.
      okWrite(4, "n1", 1, 20, 20.01),
    ];
    const check = checkNameService(SERVICE, [PROMOTION], history, [repointed(38.5, "n1", "n2")]);
    expect(check.stale_writes).toEqual([]);
    expect(check.acknowledged).toBe(0);
    expect(check.refused).toBe(0);
    expect(check.repointings).toEqual([
      { member: "n2", promoted_ns: ns(14), repointed_ns: ns(38.5), delay_s: 24.5 },
    ]);
    expect(check.repoint_delay_s).toBe(24.5);
  });

  it("lists writes by name that reached the old primary after the promotion, acknowledged ones first", () => {
    const history = [
      byName(okWrite(1, "n1", 1, 13, 13.01)), // before the promotion: the right node then
      byName(failedWrite(2, 16, 16.01, "n1")), // demoted old primary refused it
      byName(okWrite(3, "n1", 1, 18, 18.01), "beside"), // an isolated old primary still took it
      byName(unknownWrite(4, 19, 24, "n1")),
      byName(okWrite(5, "n2", 2, 40, 40.01)),
    ];
    const check = checkNameService(SERVICE, [PROMOTION], history, [repointed(38.5, "n1", "n2")]);
    expect(check.stale_writes.map((w) => [w.id, w.outcome, w.group, w.node, w.primary])).toEqual([
      [3, "ok", "beside", "n1", "n2"],
      [2, "fail", "dns", "n1", "n2"],
      [4, "unknown", "dns", "n1", "n2"],
    ]);
    expect(check.acknowledged).toBe(1);
    expect(check.refused).toBe(2);
  });

  it("has no delay when the name never followed a promotion before the end, and none without a promotion", () => {
    const never = checkNameService(SERVICE, [PROMOTION], [], [repointed(5, null, "n1")]);
    expect(never.repointings[0]?.repointed_ns).toBeNull();
    expect(never.repoint_delay_s).toBeNull();
    expect(checkNameService(SERVICE, [], [], []).repoint_delay_s).toBeNull();
  });

  it("counts a repointing a moment before the promotion's own timestamp as following it, with no negative delay", () => {
    const check = checkNameService(SERVICE, [PROMOTION], [], [repointed(13.6, "n1", "n2")]);
    expect(check.repoint_delay_s).toBe(0);
  });

  it("gives verify the run-wide figures, and none to a run without a name service", () => {
    const history = [byName(okWrite(1, "n1", 1, 16, 16.01)), byName(okWrite(2, "n2", 2, 40, 40.01))];
    const timeline = [promotionReported(14, "n2", 2), repointed(38.5, "n1", "n2")];
    const withName = verify(runRecord({ history, timeline, name_service: SERVICE }), null);
    expect(withName.figures.repoint_delay_s).toBe(24.5);
    expect(withName.figures.stale_name_writes).toBe(1);
    expect(withName.name_service?.stale_writes.map((w) => w.id)).toEqual([1]);
    const without = verify(runRecord({ history, timeline }), null);
    expect(without.name_service).toBeNull();
    expect(without.figures.repoint_delay_s).toBeNull();
    expect(without.figures.stale_name_writes).toBeNull();
  });
});
