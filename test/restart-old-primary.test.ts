import { describe, expect, it } from "vitest";
import { leftovers, resultOf, runScenarioFile } from "./helpers.ts";

interface RoleEvent {
  kind: string;
  member?: string;
  role?: string;
  at_s?: number;
}

/** Intervals in which a member was sampled writable, straight from the timeline. */
function writableSpans(timeline: RoleEvent[], member: string, end: number): [number, number][] {
  const spans: [number, number][] = [];
  let since: number | null = null;
  for (const e of timeline) {
    if (e.kind !== "role" || e.member !== member || e.at_s === undefined) continue;
    if (e.role === "primary" && since === null) since = e.at_s;
    if (e.role !== "primary" && since !== null) {
      spans.push([since, e.at_s]);
      since = null;
    }
  }
  if (since !== null) spans.push([since, end]);
  return spans;
}

describe("restart-old-primary on repmgr: the known stop/start split-brain", () => {
  const run = runScenarioFile("restart-old-primary.yaml");

  it("reports two primaries for as long as the nodes really were, and the divergence they took", () => {
    const result = resultOf(run, "repmgr");
    const timeline = result.timeline as RoleEvent[];
    const end = Math.max(...timeline.map((e) => e.at_s ?? 0));
    // Ground truth from the samples: the old primary n1 writable again while the promoted node is too.
    const promoted = result.promotions[0]?.member as string;
    expect(promoted).not.toBe("n1");
    const n1 = writableSpans(timeline, "n1", end);
    const other = writableSpans(timeline, promoted, end);
    const overlap = n1.flatMap(([a, b]) =>
      other.map(([c, d]) => Math.max(0, Math.min(b, d) - Math.max(a, c))),
    );
    const truth = Math.max(...overlap);
    expect(truth).toBeGreaterThan(3);
    expect(result.figures.dual_primary_s as number).toBeGreaterThanOrEqual(truth - 0.2);
    // The application beside n1 wrote to it again: both nodes acknowledged writes at once.
    expect(result.figures.split_brain).toBe(true);
    expect(result.figures.split_brain_window_s as number).toBeGreaterThan(0);
    expect(result.figures.split_brain_window_s as number).toBeLessThanOrEqual(truth + 0.2);
  });

  it("fails the dual_primary and split_brain expectations and exits 1", () => {
    const result = resultOf(run, "repmgr");
    expect(result.expectations.find((e) => e.key === "dual_primary")?.pass).toBe(false);
    expect(result.expectations.find((e) => e.key === "split_brain")?.pass).toBe(false);
    expect(result.expectations.find((e) => e.key === "promotions")?.pass).toBe(true);
    expect(result.verdict).toBe("fail");
    expect(run.cli.code).toBe(1);
  });

  it("leaves nothing behind", () => {
    for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
  });
});
