import { describe, expect, it } from "vitest";
import { maxWriteGap, rtoPerFault, unrecoveredFaultProblems, worstRto } from "./rto.ts";
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
      { fault: "kill", target: "primary", at_ns: ns(10), rto_s: 5.21 },
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

  it("is null for a fault after which nothing was acknowledged", () => {
    const history = [okWrite(1, "n1", 1, 1, 1.01), failedWrite(2, 11, 11.1)];
    expect(rtoPerFault(history, [faultInjected(10)])[0]?.rto_s).toBeNull();
  });

  it("lists injections in time order and ignores heals and other events", () => {
    const history = [okWrite(1, "n2", 2, 21, 22), okWrite(2, "n2", 2, 6, 7)];
    const timeline = [faultInjected(20, "partition"), step(3, "x"), faultInjected(5, "kill")];
    expect(rtoPerFault(history, timeline)).toEqual([
      { fault: "kill", target: "primary", at_ns: ns(5), rto_s: 2 },
      { fault: "partition", target: "primary", at_ns: ns(20), rto_s: 2 },
    ]);
  });
});

describe("worstRto", () => {
  const fault = { fault: "kill", target: "primary", at_ns: 0 };

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
      { fault: "kill", target: "primary", at_ns: ns(10), rto_s: 2 },
      { fault: "partition", target: "primary", at_ns: ns(30.25), rto_s: null },
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
