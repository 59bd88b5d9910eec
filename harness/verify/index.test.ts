import { describe, expect, it } from "vitest";
import type { WriteOperation } from "../model/history.ts";
import { patroniRules } from "../topology/patroni/rules.ts";
import { verify } from "./index.ts";
import { checkReads } from "./reads.ts";
import {
  NO_READ_FIGURES,
  cleanFailover,
  failedWrite,
  faultInjected,
  ns,
  okWrite,
  promotionOf,
  promotionReported,
  roleSample,
  runRecord,
  step,
  unknownWrite,
} from "./test-helpers.ts";

describe("verify", () => {
  it("passes a clean failover with exact figures", () => {
    expect(verify(cleanFailover(), null)).toEqual({
      verdict: "pass",
      figures: {
        rto_s: 5.21,
        max_write_gap_s: 5.3,
        lost_writes: 0,
        unknown_writes: 0,
        acknowledged_writes: 6,
        failed_writes: 1,
        wal_loss_bytes: 0,
        promotions: 1,
        split_brain: false,
        split_brain_window_s: 0,
        diverged: false,
        ...NO_READ_FIGURES,
        // Write 5 took 1.01 s (14.2 → 15.21); n1, healed at 18 s, was sampled following timeline 2 at 19 s.
        write_blocked_s: 1.01,
        old_primary_rejoin_s: 1,
        repoint_delay_s: null,
        stale_name_writes: null,
        stale_name_refused_writes: null,
        groups: {
          direct: {
            rto_s: 5.21,
            max_write_gap_s: 5.3,
            acknowledged_writes: 6,
            failed_writes: 1,
            unknown_writes: 0,
            lost_writes: 0,
          },
        },
      },
      unknown: {
        stale_reads: "no readers in this run",
        max_staleness_s: "no readers in this run",
        lost_data_reads: "no readers in this run",
        non_monotonic_reads: "no readers in this run",
        stale_name_writes: "no dns entry point in this run",
        stale_name_refused_writes: "no dns entry point in this run",
      },
      expectations: [
        { key: "rto", expected: "< 30s", actual: "5.21s", pass: true },
        { key: "lost_writes", expected: "= 0", actual: "0", pass: true },
        { key: "promotions", expected: "= 1", actual: "1", pass: true },
        { key: "split_brain", expected: "false", actual: "false", pass: true },
      ],
      lost_write_ids: [],
      unknown_write_ids: [],
      unknown_found_ids: [],
      promotions: [
        promotionOf({
          at_ns: ns(14),
          member: "n2",
          timeline: 2,
          fork_lsn: "0/3000100",
          ha_fork_lsn: "0/3000100",
          fork_source: "ha manager",
        }),
      ],
      wal_loss: [
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
      divergence: null,
      explanation: null,
      split_brain: { detected: false, window_s: 0, evidence: [], intervals: [] },
      dual_primary: { seconds: 0, evidence: [], intervals: [] },
      reads: checkReads([], [], []),
      transactions: null,
      name_service: null,
      rto_per_fault: [
        {
          fault: "kill",
          target: "primary",
          at_ns: ns(10),
          outage_start_ns: ns(10),
          rto_s: 5.21,
          // The helper's topology ("patroni-3") has no known reactions: only the promotion splits the RTO.
          phases: {
            detection_s: null,
            election_s: null,
            reconnection_s: 1.21,
            until_promotion_s: 4,
            reconnection_per_entrypoint: { direct: 1.21 },
            reaction: null,
            promotion: { at_ns: ns(14), member: "n2", source: "patroni /history" },
          },
        },
      ],
      rto_bound: null,
      paths: [{ path: "direct", rto_s: 5.21, bound_s: null }],
      outages: [
        {
          group: "direct",
          fault: "kill",
          target: "primary",
          at_ns: ns(10),
          start_ns: ns(10),
          end_ns: ns(15.21),
        },
      ],
      problems: [],
    });
  });

  it("lists an acknowledged write missing at the end and fails the lost_writes promise", () => {
    const record = cleanFailover();
    record.final.ids = [1, 2, 5, 6, 7];
    const verification = verify(record, null);
    expect(verification.lost_write_ids).toEqual([3]);
    expect(verification.figures.lost_writes).toBe(1);
    expect(verification.expectations[1]).toEqual({
      key: "lost_writes",
      expected: "= 0",
      actual: "1",
      pass: false,
    });
    expect(verification.verdict).toBe("fail");
  });

  it.each([
    ["present", [1, 2, 3, 5, 6, 7, 8], [8]],
    ["absent", [1, 2, 3, 5, 6, 7], []],
  ])("never counts an unknown write as lost or acknowledged (%s at the end)", (_, ids, found) => {
    const record = cleanFailover();
    record.history.push(unknownWrite(8, 9.95, 10.2));
    record.final.ids = ids;
    const verification = verify(record, null);
    expect(verification.figures).toMatchObject({ lost_writes: 0, unknown_writes: 1, acknowledged_writes: 6 });
    expect(verification.unknown_write_ids).toEqual([8]);
    expect(verification.unknown_found_ids).toEqual(found);
    expect(verification.verdict).toBe("pass");
  });

  it("fails the verdict on a problem of the run even when every promise holds", () => {
    const record = cleanFailover();
    record.problems = ["heal of kill timed out after 60 s"];
    const verification = verify(record, null);
    expect(verification.expectations.every((result) => result.pass)).toBe(true);
    expect(verification.problems).toEqual(["heal of kill timed out after 60 s"]);
    expect(verification.verdict).toBe("fail");
  });

  it("lists the run's problems before its own", () => {
    const record = cleanFailover();
    record.problems = ["final heal failed"];
    record.final.ids = null;
    expect(verify(record, null).problems).toEqual([
      "final heal failed",
      "final state unreadable: lost writes unknown",
    ]);
  });

  it("fails when the final state is unreadable instead of claiming nothing was lost", () => {
    const record = cleanFailover();
    record.final.ids = null;
    const verification = verify(record, null);
    // Unknown, never zero: the figure is null, its reason given, and its promise fails with it.
    expect(verification.figures.lost_writes).toBeNull();
    expect(verification.figures.groups.direct?.lost_writes).toBeNull();
    expect(verification.unknown.lost_writes).toBe("the final primary could not be read");
    expect(verification.expectations[1]).toEqual({
      key: "lost_writes",
      expected: "= 0",
      actual: "unknown — the final primary could not be read",
      pass: false,
    });
    expect(verification.lost_write_ids).toEqual([]);
    expect(verification.problems).toEqual(["final state unreadable: lost writes unknown"]);
    expect(verification.verdict).toBe("fail");
  });

  it("fails a fault that never saw a recovery, with a null RTO failing the promise", () => {
    const record = runRecord({
      history: [okWrite(1, "n1", 1, 1, 1.01), okWrite(2, "n1", 1, 2, 2.01), failedWrite(3, 10.5, 10.6)],
      timeline: [
        roleSample(1, "n1", "primary", 1),
        faultInjected(10),
        roleSample(11, "n1", "down"),
        step(30, "end"),
      ],
      final: { primary: null, ids: [1, 2], nodes: [] },
      expect: { rto: "< 30s" },
    });
    const verification = verify(record, null);
    expect(verification.figures.rto_s).toBeNull();
    expect(verification.rto_per_fault).toEqual([
      { fault: "kill", target: "primary", at_ns: ns(10), outage_start_ns: ns(10), rto_s: null, phases: null },
    ]);
    expect(verification.expectations).toEqual([
      { key: "rto", expected: "< 30s", actual: "none", pass: false },
    ]);
    expect(verification.problems).toEqual(["no acknowledged write after fault kill at 10 s"]);
    expect(verification.verdict).toBe("fail");
  });

  it("detects a split-brain from acknowledgements and fails the promise", () => {
    const record = runRecord({
      history: [
        okWrite(1, "n1", 1, 10, 10.01),
        okWrite(2, "n2", 2, 12, 12.26),
        okWrite(3, "n1", 1, 13.5, 13.51),
        okWrite(4, "n2", 2, 15, 15.01),
      ],
      final: { primary: "n2", ids: [1, 2, 3, 4], nodes: [] },
      expect: { split_brain: false, split_brain_window: "< 1s" },
    });
    const verification = verify(record, null);
    expect(verification.split_brain).toEqual({
      detected: true,
      window_s: 1.24,
      evidence: ["acknowledged: n1 (tl 1) and n2 (tl 2) both committed writes during 1.240 s from 12.26 s"],
      intervals: [{ start_ns: ns(12.26), end_ns: ns(13.5), members: ["n1", "n2"], source: "acknowledged" }],
    });
    expect(verification.figures).toMatchObject({ split_brain: true, split_brain_window_s: 1.24 });
    expect(verification.expectations.map((result) => [result.actual, result.pass])).toEqual([
      ["true", false],
      ["1.24s", false],
    ]);
    expect(verification.verdict).toBe("fail");
  });

  it("says WAL loss is unknown, never zero, when a promotion seen only by samples has no fork point", () => {
    const record = walLossRecord();
    const verification = verify(record, null);
    expect(verification.promotions.map((p) => [p.member, p.timeline, p.fork_lsn, p.source])).toEqual([
      ["n2", 2, "0/3000300", "patroni /history"],
      ["n1", 3, null, "role samples"],
    ]);
    expect(verification.figures).toMatchObject({ wal_loss_bytes: null, promotions: 2, rto_s: 5.5 });
    expect(verification.unknown.wal_loss_bytes).toBe("the promotion of n1 to timeline 3 has no fork LSN");
    expect(verification.expectations).toEqual([
      {
        key: "wal_loss_bytes",
        expected: "= 0",
        actual: "unknown — the promotion of n1 to timeline 3 has no fork LSN",
        pass: false,
      },
      { key: "promotions", expected: "= 2", actual: "2", pass: true },
    ]);
    expect(verification.verdict).toBe("fail");
  });

  it("counts WAL acknowledged past each fork once PostgreSQL's history gives every fork point", () => {
    const record = walLossRecord();
    // The sampler read n1's history file when it first saw it primary on timeline 3.
    record.timeline.push({
      at_ns: ns(24.1),
      kind: "fork",
      member: "n1",
      timeline: 3,
      parent: 2,
      fork_lsn: "0/3000500",
      reason: "no recovery target specified",
    });
    const verification = verify(record, null);
    expect(verification.promotions[1]).toMatchObject({
      fork_lsn: "0/3000500",
      fork_source: "timeline history",
    });
    expect(verification.figures.wal_loss_bytes).toBe(256);
    expect(verification.expectations[0]).toEqual({
      key: "wal_loss_bytes",
      expected: "= 0",
      actual: "256",
      pass: false,
    });
  });

  it("judges a run that ended with two writable nodes on both sides, and fails it unless expected", () => {
    // repmgr, async, an application beside the isolated n1: n2 was promoted, n1 never fenced.
    const history = [
      okWrite(1, "n1", 1, 1, 1.01, "0/3000100"),
      {
        ...okWrite(2, "n1", 1, 12, 12.01, "0/3000400"),
        group: "app-beside-primary",
        writer: "app-beside-primary/w1",
      },
      {
        ...okWrite(3, "n1", 1, 13, 13.01, "0/3000500"),
        group: "app-beside-primary",
        writer: "app-beside-primary/w1",
      },
      okWrite(4, "n2", 2, 14, 14.5, "0/3000300"),
    ];
    const record = runRecord({
      history,
      timeline: [
        roleSample(1, "n1", "primary", 1),
        roleSample(1, "n2", "replica", 1),
        faultInjected(10, "partition", ["n1"]),
        promotionReported(13, "n2", 2, "0/3000200"),
        roleSample(13.5, "n2", "primary", 2),
        step(30, "end"),
      ],
      final: {
        primary: "n2",
        ids: [1, 4],
        nodes: [
          { member: "n1", role: "primary", timeline: 1, lsn: "0/3000600" },
          { member: "n2", role: "primary", timeline: 2, lsn: "0/3000700" },
        ],
        sides: [
          { member: "n1", ids: [1, 2, 3] },
          { member: "n2", ids: [1, 4] },
        ],
        histories: [
          { member: "n1", timeline: 1, forks: [] },
          {
            member: "n2",
            timeline: 2,
            forks: [{ timeline: 2, parent: 1, fork_lsn: "0/3000200", reason: "" }],
          },
        ],
      },
      expect: { lost_writes: 0 },
    });
    const verification = verify(record, null);
    expect(verification.figures).toMatchObject({ diverged: true, lost_writes: 2 });
    expect(verification.divergence).toEqual({
      members: ["n2", "n1"],
      sides: [
        {
          member: "n2",
          ha_primary: true,
          timeline: 2,
          lsn: "0/3000700",
          missing_ids: [2, 3],
          missing_by_group: { "app-beside-primary": 2 },
        },
        {
          member: "n1",
          ha_primary: false,
          timeline: 1,
          lsn: "0/3000600",
          missing_ids: [4],
          missing_by_group: { direct: 1 },
        },
      ],
    });
    expect(verification.expectations.at(-1)).toEqual({
      key: "diverged",
      expected: "false (unless expected)",
      actual:
        "n2 and n1 were both writable at the end: n2 (timeline 2, the HA manager's primary) lacks 2 acknowledged writes; n1 (timeline 1) lacks 1 acknowledged writes",
      pass: false,
    });
    expect(verification.explanation?.text).toBe(
      "The run ended split: n2 and n1 were both writable; 2 writes acknowledged by n1 on timeline 1 came after n2's timeline 2 forked off it (at 0/3000200): the promoted node never had them, and the final primary n2 descends from it",
    );
    expect(verification.figures.wal_loss_bytes).toBe(0x300);
    // Expected divergence: the promise holds, the other findings stand.
    record.expect = { diverged: true };
    const expected = verify(record, null);
    expect(expected.expectations).toEqual([
      { key: "diverged", expected: "true", actual: "true", pass: true },
    ]);
  });

  it("does not call a run split when the HA manager's primary is down and one other node is writable", () => {
    const record = cleanFailover();
    record.final = {
      primary: "n2",
      ids: null,
      nodes: [
        { member: "n1", role: "primary", timeline: 2, lsn: "0/3000900" },
        { member: "n2", role: "down", timeline: null, lsn: null },
      ],
      sides: [
        { member: "n2", ids: null },
        { member: "n1", ids: [1, 2, 3] },
      ],
    };
    const verification = verify(record, null);
    expect(verification.figures.diverged).toBe(false);
    expect(verification.divergence).toBeNull();
  });

  it("explains writes lost with an abandoned timeline: the old leader took the lock back", () => {
    // Patroni 3.0.2 on a frozen leader (issue 25): n3 promoted itself to timeline 2 and acknowledged
    // writes; n1 thawed, took the lock back on timeline 1; n3 rewound to it.
    const record = runRecord({
      history: [
        okWrite(1, "n1", 1, 1, 1.01, "0/5000000"),
        okWrite(2, "n3", 2, 20, 20.01, "0/5000100"),
        okWrite(3, "n3", 2, 21, 21.01, "0/5000200"),
        okWrite(4, "n1", 1, 30, 30.01, "0/5000300"),
      ],
      timeline: [
        roleSample(1, "n1", "primary", 1),
        roleSample(1, "n3", "replica", 1),
        faultInjected(10, "freeze", ["n1"]),
        roleSample(19, "n3", "primary", 2),
        {
          at_ns: ns(19.1),
          kind: "fork",
          member: "n3",
          timeline: 2,
          parent: 1,
          fork_lsn: "0/5000060",
          reason: "",
        },
        {
          at_ns: ns(19),
          kind: "ha",
          source: "patroni",
          member: "n3",
          text: "promoted self to leader by acquiring session lock",
        },
        { at_ns: ns(25), kind: "fault", phase: "heal", fault: "freeze", target: "primary", members: ["n1"] },
        {
          at_ns: ns(26),
          kind: "ha",
          source: "patroni",
          member: "n1",
          text: "acquired session lock as a leader",
        },
        {
          at_ns: ns(27),
          kind: "ha",
          source: "patroni",
          member: "n3",
          text: "Demoting self (immediate-nolock)",
        },
        { at_ns: ns(28), kind: "ha", source: "patroni", member: "n3", text: "running pg_rewind from n1" },
        roleSample(29, "n3", "replica", 1),
        step(40, "end"),
      ],
      final: {
        primary: "n1",
        ids: [1, 4],
        nodes: [{ member: "n1", role: "primary", timeline: 1, lsn: "0/5000400" }],
        sides: [{ member: "n1", ids: [1, 4] }],
        histories: [{ member: "n1", timeline: 1, forks: [] }],
      },
      expect: { lost_writes: 0 },
    });
    const verification = verify(record, null);
    expect(verification.figures).toMatchObject({ lost_writes: 2, diverged: false, wal_loss_bytes: 0x1a0 });
    expect(verification.promotions[0]).toMatchObject({
      member: "n3",
      source: "role samples",
      fork_lsn: "0/5000060",
    });
    expect(verification.explanation?.text).toBe(
      "After the heal of freeze on n1, n1 was primary again on timeline 1 (acquired session lock as a leader) and n3 stepped down (Demoting self (immediate-nolock)); n3's timeline 2, with 2 acknowledged writes, is not in its history: abandoned, and n3 rewound to n1",
    );
    expect(verification.explanation?.evidence.map((e) => e.at_ns)).toEqual([ns(25), ns(26), ns(27), ns(28)]);
  });

  it("fails on a failed write found on the final primary", () => {
    const record = cleanFailover();
    record.final.ids = [1, 2, 3, 4, 5, 6, 7];
    const verification = verify(record, null);
    expect(verification.problems).toEqual(["write 4 failed but is present on the final primary"]);
    expect(verification.verdict).toBe("fail");
  });

  it("fails a malformed expectation on its own line instead of throwing", () => {
    const record = cleanFailover();
    record.expect = { rto: "<30 sec", lost_writes: 0 };
    const verification = verify(record, null);
    expect(verification.expectations).toEqual([
      { key: "rto", expected: "<30 sec", actual: "invalid expectation", pass: false },
      { key: "lost_writes", expected: "= 0", actual: "0", pass: true },
    ]);
    expect(verification.problems).toEqual([
      'expect.rto: "<30 sec" is not a duration comparison; write e.g. "< 30s", "<= 1.5s", "< 500ms", "< 2m" or a number of seconds, or "within-bound" for the bound the HA settings imply',
    ]);
    expect(verification.verdict).toBe("fail");
  });

  it("holds the RTO against the bound the run's own settings imply", () => {
    const record = cleanFailover();
    record.topology = "patroni";
    record.settings = { patroni_dcs: { ttl: 4, loop_wait: 1 } };
    record.expect = { rto: "within-bound" };
    const verification = verify(record, patroniRules);
    expect(verification.rto_bound?.bound_s).toBe(5);
    expect(verification.expectations).toEqual([
      { key: "rto", expected: "within-bound", actual: "5.21s (bound 5s)", pass: false },
    ]);
    record.settings = { patroni_dcs: { ttl: 5, loop_wait: 1 } };
    expect(verify(record, patroniRules).verdict).toBe("pass");
  });

  it("passes a run without expectations or problems", () => {
    expect(verify(runRecord(), null).verdict).toBe("pass");
  });
  describe("with several ways into the cluster", () => {
    const through = (group: string, op: WriteOperation): WriteOperation => ({
      ...op,
      group,
      writer: `${group}/w1`,
    });
    // A kill at 10 s: direct clients write again at 12 s, HAProxy's at 15 s; a writer beside the old primary never.
    const history = [
      through("direct", okWrite(1, "n1", 1, 9, 9.01)),
      through("direct", failedWrite(2, 10.5, 10.51)),
      through("direct", okWrite(3, "n2", 2, 12, 12.01)),
      through("haproxy", okWrite(4, "n1", 1, 9.5, 9.51)),
      through("haproxy", failedWrite(5, 10.5, 10.51)),
      through("haproxy", okWrite(6, "n2", 2, 15, 15.01)),
      through("beside-primary", okWrite(7, "n1", 1, 9.6, 9.61)),
      through("beside-primary", failedWrite(8, 10.6, 10.61)),
    ];
    const record = (entrypoints: string[]) =>
      runRecord({
        history,
        timeline: [faultInjected(10)],
        entrypoints,
        final: { primary: "n2", ids: [1, 3, 4, 6, 7], nodes: [] },
      });

    it("reports the worst path's RTO and write gap, not the best one's", () => {
      const { figures, rto_per_fault } = verify(record(["direct", "haproxy"]), null);
      expect(figures.rto_s).toBe(5.01);
      expect(figures.max_write_gap_s).toBe(5.5);
      expect(figures.groups.direct?.rto_s).toBe(2.01);
      expect(rto_per_fault.map((f) => f.rto_s)).toEqual([5.01]);
    });

    it("gives each path's outage, the windows the worst RTO is taken from", () => {
      const { outages } = verify(record(["direct", "haproxy"]), null);
      expect(outages.map((o) => [o.group, o.fault, o.start_ns, o.end_ns])).toEqual([
        ["direct", "kill", ns(10), ns(12.01)],
        ["haproxy", "kill", ns(10), ns(15.01)],
      ]);
    });

    it("leaves the outage of a path that never recovered open", () => {
      const { outages } = verify(record(["direct", "beside-primary"]), null);
      expect(outages.map((o) => [o.group, o.end_ns])).toEqual([
        ["direct", ns(12.01)],
        ["beside-primary", null],
      ]);
    });

    it("leaves a placed group out of the run's RTO but reports it on its own", () => {
      const verification = verify(record(["direct", "haproxy"]), null);
      expect(verification.figures.groups["beside-primary"]?.rto_s).toBeNull();
      expect(verification.problems).toEqual([]);
    });

    it("names the path that never recovered", () => {
      const verification = verify(record(["direct", "beside-primary"]), null);
      expect(verification.figures.rto_s).toBeNull();
      expect(verification.problems).toEqual([
        "no acknowledged write through beside-primary after fault kill at 10 s",
      ]);
      expect(verification.verdict).toBe("fail");
    });
  });
});

/** Two promotions: n2 (reported, with a fork LSN) and then n1, seen only by samples. */
function walLossRecord() {
  return runRecord({
    history: [
      okWrite(1, "n1", 1, 1, 1.01, "0/3000100"),
      okWrite(2, "n1", 1, 9.8, 9.81, "0/3000400"),
      okWrite(3, "n2", 2, 14, 14.5, "0/3000500"),
      okWrite(4, "n1", 3, 25, 25.5, "0/3000900"),
    ],
    timeline: [
      roleSample(1, "n1", "primary", 1),
      roleSample(1, "n2", "replica", 1),
      faultInjected(10),
      promotionReported(13, "n2", 2, "0/3000300"),
      roleSample(13.5, "n1", "down"),
      roleSample(13.5, "n2", "primary", 2),
      faultInjected(20, "kill", ["n2"]),
      roleSample(21, "n2", "down"),
      roleSample(24, "n1", "primary", 3),
      step(30, "end"),
    ],
    final: { primary: "n1", ids: [1, 2, 3, 4], nodes: [] },
    expect: { wal_loss_bytes: 0, promotions: 2 },
  });
}
