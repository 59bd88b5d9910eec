import { describe, expect, it } from "vitest";
import {
  maxWriteGap,
  mergeOutages,
  outagesPerFault,
  rtoPerFault,
  unrecoveredFaultProblems,
  worstRto,
} from "./rto.ts";
import {
  cleanFailover,
  failedWrite,
  faultInjected,
  ns,
  okWrite,
  step,
  unknownWrite,
} from "./test-helpers.ts";

describe("rtoPerFault", () => {
  it("measures from the fault to the first acknowledgement of a write invoked after it", () => {
    const { history, timeline } = cleanFailover();
    expect(rtoPerFault(history, timeline)).toEqual([
      { fault: "kill", target: "primary", at_ns: ns(10), outage_start_ns: ns(10), rto_s: 5.21 },
    ]);
  });

  it("ignores a write invoked before the fault even if it is acknowledged after it", () => {
    const history = [okWrite(1, "n1", 1, 9.5, 12.0), okWrite(2, "n2", 2, 13.0, 13.25)];
    expect(rtoPerFault(history, [faultInjected(10)])[0]?.rto_s).toBe(3.25);
  });

  it("takes the earliest completion, not the earliest invocation, after the fault", () => {
    const history = [okWrite(1, "n2", 2, 10.1, 16.0), okWrite(2, "n2", 2, 11.0, 14.5)];
    expect(rtoPerFault(history, [faultInjected(10)])[0]?.rto_s).toBe(4.5);
  });

  it("counts a write invoked at the very instant of the fault", () => {
    const history = [okWrite(1, "n1", 1, 10.0, 10.002)];
    expect(rtoPerFault(history, [faultInjected(10)])[0]?.rto_s).toBe(0.002);
  });

  it("ignores failed and unknown writes", () => {
    const history = [failedWrite(1, 10.5, 10.6), unknownWrite(2, 11, 11.5), okWrite(3, "n2", 2, 12, 12.5)];
    expect(rtoPerFault(history, [faultInjected(10)])[0]?.rto_s).toBe(2.5);
  });

  it("starts the outage at the last acknowledgement before the first error when writes outlive the request", () => {
    // A switchover requested at 10 s: the old primary keeps acknowledging until 14 s, errors from 14.1 s,
    // the new primary acknowledges at 15.3 s. Writes were impossible for 1.3 s, not 5.3 s.
    const history = [
      okWrite(1, "n1", 1, 12, 12.01),
      okWrite(2, "n1", 1, 13.98, 14.0),
      failedWrite(3, 14.1, 14.2),
      unknownWrite(4, 14.3, 14.9),
      okWrite(5, "n2", 2, 15.2, 15.3),
    ];
    const [rto] = rtoPerFault(history, [faultInjected(10, "switchover")]);
    expect(rto?.outage_start_ns).toBe(ns(14));
    expect(rto?.rto_s).toBe(1.3);
  });

  it("does not let a write acknowledged after the disruption began shorten the outage", () => {
    // Writer 2's write was invoked before writer 1's failure and acknowledged after it: it proves
    // nothing about new writes being possible.
    const history = [
      okWrite(1, "n1", 1, 11.9, 12.0),
      failedWrite(2, 12.1, 12.2),
      okWrite(3, "n1", 1, 12.05, 12.3),
      okWrite(4, "n2", 2, 13, 13.5),
    ];
    const [rto] = rtoPerFault(history, [faultInjected(10, "switchover")]);
    expect(rto?.rto_s).toBe(1.5);
  });

  it("takes the fault's longest outage: a write landing just after the first failure does not end it", () => {
    // Two writers and a clean stop (seen on pg_auto_failover): writer 1's write fails as the
    // shutdown reaches its session; writer 2's, invoked 0.1 ms later, still lands; then every write
    // fails until the new primary acknowledges one 10.2 s later.
    const history = [
      okWrite(1, "n1", 1, 15.5, 15.51),
      failedWrite(2, 15.6265, 15.63),
      okWrite(3, "n1", 1, 15.6266, 15.6386),
      failedWrite(4, 15.7, 15.8),
      unknownWrite(5, 16, 20),
      failedWrite(6, 25.7, 25.75),
      okWrite(7, "n2", 2, 25.8, 25.85),
      failedWrite(8, 30, 30.1), // a blip later: shorter, not the RTO
      okWrite(9, "n2", 2, 30.2, 30.3),
    ];
    const [rto] = rtoPerFault(history, [faultInjected(15, "stop")]);
    expect(rto?.outage_start_ns).toBe(ns(15.6386));
    expect(rto?.rto_s).toBe(10.2114);
  });

  it("does not let failures after the recovery that nothing followed (the workload stopping) undo it", () => {
    const history = [
      okWrite(1, "n1", 1, 9, 9.01),
      failedWrite(2, 10.5, 10.6),
      okWrite(3, "n2", 2, 12, 12.5),
      unknownWrite(4, 40, 40.2), // cancelled as the workload stopped
    ];
    expect(rtoPerFault(history, [faultInjected(10)])[0]?.rto_s).toBe(2.5);
  });

  it("looks for the disruption only until the next fault", () => {
    const history = [
      okWrite(1, "n1", 1, 10.5, 10.52),
      failedWrite(2, 20.5, 20.6),
      okWrite(3, "n2", 2, 22, 22.5),
    ];
    const [first, second] = rtoPerFault(history, [faultInjected(10, "kill"), faultInjected(20, "kill")]);
    expect(first?.rto_s).toBe(0.52);
    expect(second?.rto_s).toBe(2.5);
  });

  it("is null for a fault after which nothing was acknowledged", () => {
    const history = [okWrite(1, "n1", 1, 1, 1.01), failedWrite(2, 11, 11.1)];
    expect(rtoPerFault(history, [faultInjected(10)])[0]?.rto_s).toBeNull();
  });

  it("lists injections in time order and ignores heals and other events", () => {
    const history = [okWrite(1, "n2", 2, 21, 22), okWrite(2, "n2", 2, 6, 7)];
    const timeline = [faultInjected(20, "partition"), step(3, "x"), faultInjected(5, "kill")];
    expect(rtoPerFault(history, timeline)).toEqual([
      { fault: "kill", target: "primary", at_ns: ns(5), outage_start_ns: ns(5), rto_s: 2 },
      { fault: "partition", target: "primary", at_ns: ns(20), outage_start_ns: ns(20), rto_s: 2 },
    ]);
  });
});

describe("worstRto", () => {
  const fault = { fault: "kill", target: "primary", at_ns: 0, outage_start_ns: 0 };

  it("is the maximum over faults", () => {
    expect(
      worstRto([
        { ...fault, rto_s: 3.5 },
        { ...fault, rto_s: 7.25 },
        { ...fault, rto_s: 1 },
      ]),
    ).toBe(7.25);
  });

  it("is null when any fault never recovered", () => {
    expect(
      worstRto([
        { ...fault, rto_s: 3.5 },
        { ...fault, rto_s: null },
      ]),
    ).toBeNull();
  });

  it("is null without faults", () => {
    expect(worstRto([])).toBeNull();
  });
});

describe("unrecoveredFaultProblems", () => {
  it("names each fault that never saw an acknowledged write, with its time", () => {
    const perFault = [
      { fault: "kill", target: "primary", at_ns: ns(10), outage_start_ns: ns(10), rto_s: 2 },
      { fault: "partition", target: "primary", at_ns: ns(30.25), outage_start_ns: ns(30.25), rto_s: null },
    ];
    expect(unrecoveredFaultProblems(perFault)).toEqual([
      "no acknowledged write after fault partition at 30.25 s",
    ]);
  });
});

describe("maxWriteGap", () => {
  it("is the longest interval between consecutive acknowledgements, whatever the history order", () => {
    const { history } = cleanFailover();
    // Acks at 8.01, 9.01, 9.91, 15.21, 16.01, 17.01: the gap across the failover is 5.3 s.
    expect(maxWriteGap([...history].reverse())).toBe(5.3);
  });

  it("does not let failed or unknown writes fill the gap", () => {
    const history = [
      okWrite(1, "n1", 1, 0, 1),
      failedWrite(2, 2, 3),
      unknownWrite(3, 3, 4),
      okWrite(4, "n1", 1, 5, 6),
    ];
    expect(maxWriteGap(history)).toBe(5);
  });

  it("is null with fewer than two acknowledgements", () => {
    expect(maxWriteGap([okWrite(1, "n1", 1, 0, 1), failedWrite(2, 2, 3)])).toBeNull();
    expect(maxWriteGap([])).toBeNull();
  });
});

describe("outagesPerFault", () => {
  it("is the window rtoPerFault measures: from the outage start to the first new acknowledgement", () => {
    const history = [
      okWrite(1, "n1", 1, 13.98, 14.0),
      failedWrite(2, 14.1, 14.2),
      okWrite(3, "n2", 2, 15.2, 15.3),
    ];
    const timeline = [faultInjected(10, "switchover")];
    expect(outagesPerFault("haproxy", history, timeline)).toEqual([
      {
        group: "haproxy",
        fault: "switchover",
        target: "primary",
        at_ns: ns(10),
        start_ns: ns(14),
        end_ns: ns(15.3),
      },
    ]);
    const [outage] = outagesPerFault("haproxy", history, timeline);
    const [rto] = rtoPerFault(history, timeline);
    expect(outage?.start_ns).toBe(rto?.outage_start_ns);
    expect(((outage?.end_ns ?? 0) - (outage?.start_ns ?? 0)) / 1e9).toBe(rto?.rto_s);
  });

  it("stays open when writes never came back", () => {
    const history = [failedWrite(1, 10.5, 10.6)];
    expect(outagesPerFault("direct", history, [faultInjected(10)])[0]?.end_ns).toBeNull();
  });

  it("merges paths in timeline order, keeping the paths' order within a fault", () => {
    const timeline = [faultInjected(10), faultInjected(20)];
    const history = [okWrite(1, "n2", 2, 12, 12.5), okWrite(2, "n2", 2, 22, 22.5)];
    const merged = mergeOutages([
      outagesPerFault("direct", history, timeline),
      outagesPerFault("haproxy", history, timeline),
    ]);
    expect(merged.map((o) => [o.group, o.at_ns])).toEqual([
      ["direct", ns(10)],
      ["haproxy", ns(10)],
      ["direct", ns(20)],
      ["haproxy", ns(20)],
    ]);
  });
});
