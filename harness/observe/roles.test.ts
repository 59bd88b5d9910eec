import { describe, expect, it } from "vitest";
import { RunClock } from "../common/clock.ts";
import type { TimelineEvent } from "../model/timeline.ts";
import { RoleSampler } from "./roles.ts";

describe("RoleSampler.observe", () => {
  it("puts a reading taken elsewhere on the timeline at its own time, once per change", () => {
    const events: TimelineEvent[] = [];
    const sampler = new RoleSampler(
      ["n2"],
      () => ({ host: "", port: 0, user: "", password: "", database: "" }),
      new RunClock(),
      (e) => events.push(e),
    );
    const primary = { role: "primary" as const, timeline: 2, lsn: "0/3000060" };
    sampler.observe("n2", primary, 1_000);
    sampler.observe("n2", primary, 2_000);
    sampler.observe("n2", { role: "replica", timeline: 2, lsn: "0/3000060" }, 3_000);
    expect(events.map((e) => [e.at_ns, e.kind === "role" ? e.role : e.kind])).toEqual([
      [1_000, "primary"],
      [3_000, "replica"],
    ]);
    expect(events[0]).toMatchObject({ member: "n2", observer: "outside", timeline: 2 });
  });
});
