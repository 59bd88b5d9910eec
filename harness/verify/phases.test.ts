import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { WriteOperation } from "../model/history.ts";
import type { TimelineEvent } from "../model/timeline.ts";
import { haRulesOf } from "../topology/index.ts";
import { expectedRtoBound } from "./bound.ts";
import { rtoPhases } from "./phases.ts";
import { derivePromotions } from "./promotions.ts";
import { mergeOutages, outagesPerFault, rtoPerFault, worstPerFault } from "./rto.ts";
import {
  failedWrite,
  faultInjected,
  ns,
  okWrite,
  promotionReported,
  roleSample,
  unknownWrite,
} from "./test-helpers.ts";

function ha(atS: number, text: string, source = "patroni", member: string | null = "n2"): TimelineEvent {
  return { at_ns: ns(atS), kind: "ha", source, member, text };
}

function onPath(op: WriteOperation, group: string): WriteOperation {
  return { ...op, group, writer: `${group}/w1` };
}

/** Phases as verify computes them: per entry point RTO, worst per fault, every path's outages. */
function phasesOf(
  topology: string,
  history: WriteOperation[],
  timeline: TimelineEvent[],
  entrypoints = ["direct"],
) {
  const perPath = entrypoints.map((path) => history.filter((op) => op.group === path));
  const perFault = worstPerFault(perPath.map((ops) => rtoPerFault(ops, timeline)));
  const outages = mergeOutages(perPath.map((ops, i) => outagesPerFault(entrypoints[i] ?? "", ops, timeline)));
  return rtoPhases(
    topology,
    haRulesOf(topology)?.reactions ?? [],
    timeline,
    perFault,
    outages,
    derivePromotions(timeline),
  );
}

/** n1 acknowledges until 9.9 s, is killed at 10 s; writes fail until n2 acknowledges at 20 s. */
const KILLED = [
  okWrite(1, "n1", 1, 9.9, 9.91),
  failedWrite(2, 10.5, 10.6),
  failedWrite(3, 15, 15.1),
  okWrite(4, "n2", 2, 19.8, 20),
];

describe("rtoPhases", () => {
  it("splits the RTO at the HA manager's first reaction and its promotion", () => {
    const timeline = [
      faultInjected(10),
      ha(19.5, "Request failed to n1: GET http://10.0.0.1:8008/patroni (refused)"),
      ha(19.6, "promoted self to leader by acquiring session lock"),
      promotionReported(19.7, "n2", 2),
    ];
    const [phases] = phasesOf("patroni", KILLED, timeline);
    // 10 → 19.5 → 19.7 → 20: the three add up to the 10 s RTO.
    expect(phases).toEqual({
      detection_s: 9.5,
      election_s: 0.2,
      reconnection_s: 0.3,
      until_promotion_s: 9.7,
      reconnection_per_entrypoint: { direct: 0.3 },
      reaction: {
        at_ns: ns(19.5),
        member: "n2",
        text: "Request failed to n1: GET http://10.0.0.1:8008/patroni (refused)",
      },
      promotion: { at_ns: ns(19.7), member: "n2", source: "patroni /history" },
    });
  });

  it("leaves detection and election null without a reaction, and still times the promotion", () => {
    const timeline = [faultInjected(10), promotionReported(17, "n2", 2)];
    expect(phasesOf("repmgr", KILLED, timeline)[0]).toMatchObject({
      detection_s: null,
      election_s: null,
      until_promotion_s: 7,
      reconnection_s: 3,
      reaction: null,
    });
  });

  it("takes only the HA manager's own events, not the harness's status samples or routine lines", () => {
    const timeline = [
      faultInjected(10),
      ha(10.5, "promoted self to leader by acquiring session lock", "patroni status", null),
      ha(11, "running pg_rewind from n2"),
      ha(12, "primary → draining: Setting goal state of node 1 to draining", "pg_auto_failover"),
      promotionReported(19.7, "n2", 2),
    ];
    const [phases] = phasesOf("patroni", KILLED, timeline);
    expect(phases?.detection_s).toBeNull();
    expect(phases?.until_promotion_s).toBe(9.7);
  });

  it("knows each manager's reactions", () => {
    const cases: [string, string][] = [
      [
        "pg_auto_failover",
        "primary → draining: Setting goal state of node 1 to draining after it became unhealthy.",
      ],
      ["pg_auto_failover", "secondary → report_lsn: Setting goal state of node 2 to report_lsn"],
      ["patroni", "following a different leader because i am not the healthiest node"],
      ["repmgr", 'repmgrd_upstream_disconnect: unable to connect to upstream node "n2" (ID: 2)'],
    ];
    for (const [topology, text] of cases) {
      const timeline = [faultInjected(10), ha(13, text, topology), promotionReported(19.7, "n2", 2)];
      expect(phasesOf(topology, KILLED, timeline)[0]?.detection_s).toBe(3);
    }
    // A failed health check is not yet the monitor's unhealthy verdict.
    const checked = [
      faultInjected(10),
      ha(11, 'primary → primary: Node node 1 "n1" is marked as unhealthy by the monitor', "pg_auto_failover"),
      promotionReported(19.7, "n2", 2),
    ];
    expect(phasesOf("pg_auto_failover", KILLED, checked)[0]?.detection_s).toBeNull();
  });

  it("counts from the outage start: a reaction before writes stopped leaves nothing to detect", () => {
    // A switchover requested at 10 s: the monitor drains at 10.5 s, n1 acknowledges until 12 s.
    const history = [
      okWrite(1, "n1", 1, 11.99, 12),
      failedWrite(2, 12.1, 12.2),
      okWrite(3, "n2", 2, 13.2, 13.5),
    ];
    const timeline = [
      faultInjected(10, "switchover"),
      ha(10.5, "primary → draining: Setting goal state of node 1 to draining", "pg_auto_failover", "n1"),
      promotionReported(13, "n2", 2),
    ];
    expect(phasesOf("pg_auto_failover", history, timeline)[0]).toMatchObject({
      detection_s: 0,
      election_s: 1,
      reconnection_s: 0.5,
      until_promotion_s: 1,
    });
  });

  it("is null for a fault no promotion answered", () => {
    const history = [
      okWrite(1, "n1", 1, 9.9, 9.91),
      unknownWrite(2, 10.1, 12),
      okWrite(3, "n1", 1, 12, 12.01),
    ];
    expect(phasesOf("patroni", history, [faultInjected(10, "kill", ["n3"])])).toEqual([null]);
    // A promotion after writes came back did not end this outage.
    const late = [faultInjected(10, "kill", ["n3"]), promotionReported(14, "n2", 2)];
    expect(phasesOf("patroni", history, late)).toEqual([null]);
  });

  it("gives a promotion to the fault it followed, not to an earlier one", () => {
    const history = [
      okWrite(1, "n1", 1, 9.9, 9.91),
      failedWrite(2, 10.1, 10.2),
      okWrite(3, "n1", 1, 11, 11.01),
      failedWrite(4, 20.1, 20.2),
      okWrite(5, "n2", 2, 24, 24.5),
    ];
    const timeline = [faultInjected(10, "freeze"), faultInjected(20), promotionReported(23, "n2", 2)];
    const [first, second] = phasesOf("patroni", history, timeline);
    expect(first).toBeNull();
    expect(second?.until_promotion_s).toBe(3);
  });

  it("does not take a promotion only role samples saw as a boundary", () => {
    const timeline = [
      roleSample(1, "n1", "primary", 1),
      roleSample(1, "n2", "replica", 1),
      faultInjected(10),
      ha(19.5, "promoted self to leader by acquiring session lock"),
      roleSample(19.9, "n2", "primary", 2),
    ];
    expect(phasesOf("patroni", KILLED, timeline)[0]).toMatchObject({
      detection_s: 9.5,
      election_s: null,
      reconnection_s: null,
      until_promotion_s: null,
      reconnection_per_entrypoint: { direct: null },
      promotion: { at_ns: ns(19.9), source: "role samples" },
    });
  });

  it("measures reconnection per entry point, the fault's being the worst path's", () => {
    const history = [
      ...KILLED.map((op) => onPath(op, "direct")),
      onPath(okWrite(11, "n1", 1, 9.9, 9.95), "haproxy"),
      onPath(failedWrite(12, 10.2, 10.3), "haproxy"),
      onPath(okWrite(13, "n2", 2, 19.9, 22), "haproxy"),
    ];
    const timeline = [faultInjected(10), ha(19, "promoted self to leader"), promotionReported(19.5, "n2", 2)];
    const [phases] = phasesOf("patroni", history, timeline, ["direct", "haproxy"]);
    expect(phases?.reconnection_per_entrypoint).toEqual({ direct: 0.5, haproxy: 2.5 });
    expect(phases?.reconnection_s).toBe(2.5);
    // haproxy's outage (10 → 22 s) is the fault's RTO: 9 + 0.5 + 2.5.
    expect([phases?.detection_s, phases?.election_s]).toEqual([9, 0.5]);
  });

  it("has no reconnection when writes never came back", () => {
    const history = [okWrite(1, "n1", 1, 9.9, 9.91), failedWrite(2, 10.5, 10.6)];
    const timeline = [faultInjected(10), promotionReported(15, "n2", 2)];
    expect(phasesOf("patroni", history, timeline)[0]).toMatchObject({
      reconnection_s: null,
      until_promotion_s: 5,
      reconnection_per_entrypoint: { direct: null },
    });
  });
});

describe("rtoPhases over recorded runs", () => {
  const RESULTS = fileURLToPath(new URL("../../fixtures/results", import.meta.url));

  /** A stored run as verify saw it; these files predate writer groups: the whole history is one path. */
  function recorded(name: string) {
    const dir = `${RESULTS}/${name}`;
    const result = JSON.parse(readFileSync(`${dir}/result.json`, "utf8")) as {
      topology: string;
      settings: Record<string, unknown>;
      versions: Record<string, string>;
      timeline: (TimelineEvent & { at_s?: number })[];
    };
    const history = JSON.parse(readFileSync(`${dir}/history.json`, "utf8")) as WriteOperation[];
    const timeline = result.timeline.map(({ at_s: _, ...event }) => event as TimelineEvent);
    const perFault = rtoPerFault(history, timeline);
    const phases = rtoPhases(
      result.topology,
      haRulesOf(result.topology)?.reactions ?? [],
      timeline,
      perFault,
      outagesPerFault("direct", history, timeline),
      derivePromotions(timeline),
    );
    return { result, perFault, phases };
  }

  it.each([
    // Kill at 11.106 s; the monitor drains n1 at 14.267 s, promotes n2 at 21.275 s; first ack 21.311 s.
    ["kill-primary-pg_auto_failover-88f79d", 3.161718174, 7.007723144, 0.035817842, 12],
    // Kill at 9.565 s; "promoted self to leader" at 18.855 s, /history at 18.866 s; first ack 18.877 s.
    ["kill-primary-patroni-88ffe8", 9.289672559, 0.011, 0.010613131, 12],
  ])("%s: phases add up to its RTO", (name, detection, election, reconnection, bound) => {
    const { result, perFault, phases } = recorded(name);
    const [phase] = phases;
    expect(phase?.detection_s).toBeCloseTo(detection, 9);
    expect(phase?.election_s).toBeCloseTo(election, 9);
    expect(phase?.reconnection_s).toBeCloseTo(reconnection, 9);
    expect(detection + election + reconnection).toBeCloseTo(perFault[0]?.rto_s ?? Number.NaN, 9);
    expect(expectedRtoBound(haRulesOf(result.topology), result.settings, result.versions)?.bound_s).toBe(
      bound,
    );
  });

  it("monitor-loss-pg_auto_failover-42f84d: no promotion, no phases", () => {
    expect(recorded("monitor-loss-pg_auto_failover-42f84d").phases).toEqual([null]);
  });
});
