import { describe, expect, it } from "vitest";
import { historyOf, leftovers, resultOf, runScenarioFile } from "./helpers.ts";

// repmgr, async: the isolated primary keeps acknowledging the application beside it while repmgr
// promotes n2 and never fences n1. Issue 25: judged on both sides, history from where it was written.
describe("isolate-primary-async-beside on repmgr: a run that ends split", () => {
  const run = runScenarioFile("isolate-primary-async-beside.yaml");

  it("fails on the divergence and on the lost writes, and says why in one line", () => {
    const result = resultOf(run, "repmgr");
    expect(run.cli.code).toBe(1);
    expect(result.figures.diverged).toBe(true);
    const failed = result.expectations.filter((e) => !e.pass).map((e) => e.key);
    expect(failed).toEqual(expect.arrayContaining(["diverged", "lost_writes"]));
    expect(result.explanation?.text).toMatch(
      /^The run ended split: n2 and n1 were both writable; [\d,]+ writes acknowledged by n1 on timeline 1 came after n2's timeline 2 forked off it/,
    );
    expect(result.explanation?.evidence.some((e) => /n2 promoted to timeline 2/.test(e.text))).toBe(true);
    expect(run.cli.stdout).toContain("why: The run ended split");
  });

  it("reads the final state from the node repmgr itself calls primary, and judges the other side too", () => {
    const result = resultOf(run, "repmgr");
    const history = historyOf(run, "repmgr");
    expect(result.final.primary).toBe("n2");
    expect(result.divergence?.members).toEqual(["n2", "n1"]);
    const [promoted, old] = result.divergence?.sides ?? [];
    // n2 lacks what the application beside n1 had acknowledged; n1 lacks what the direct path wrote to n2.
    expect(promoted).toMatchObject({ member: "n2", ha_primary: true });
    expect(Object.keys(promoted?.missing_by_group ?? {})).toEqual(["app-beside-primary"]);
    expect(old).toMatchObject({ member: "n1", ha_primary: false });
    expect(Object.keys(old?.missing_by_group ?? {})).toEqual(["direct"]);
    // Each side's missing ids, checked against the history: acknowledged, by the other side's node.
    const acked = new Map(history.filter((op) => op.outcome === "ok").map((op) => [op.id, op]));
    for (const id of promoted?.missing_ids ?? []) expect(acked.get(id)?.node).toBe("n1");
    for (const id of old?.missing_ids ?? []) expect(acked.get(id)?.node).toBe("n2");
    expect(result.figures.lost_writes).toBe(promoted?.missing_ids?.length);
    expect(result.lost_write_ids).toEqual(promoted?.missing_ids);
  });

  it("takes the promotion from repmgr's own events, with its fork point from the promoted node's history", () => {
    const result = resultOf(run, "repmgr");
    expect(result.promotions).toHaveLength(1);
    const [promotion] = result.promotions;
    expect(promotion).toMatchObject({
      member: "n2",
      timeline: 2,
      source: "repmgr history",
      fork_source: "timeline history",
    });
    expect(promotion?.ha_fork_lsn).toBe(promotion?.fork_lsn);
    // standby_promote was written on n2's side of the partition; n1's repmgr.events never saw it.
    const events = result.timeline.filter((e) => e.kind === "ha" && e.source === "repmgr");
    expect(events.some((e) => /^standby_promote: /.test(e.text ?? "") && e.member === "n2")).toBe(true);
    // Measured, not zero: the old timeline's acknowledged tail past the fork.
    expect(result.figures.wal_loss_bytes as number).toBeGreaterThan(0);
  });

  it("leaves nothing behind", () => {
    for (const id of run.runIds) expect(leftovers(id)).toEqual([]);
  });
});
