import { describe, expect, it } from "vitest";
import { RunClock } from "../common/clock.ts";
import type { Outcome, WriteOperation } from "../model/history.ts";
import { type ClientGroup, Workload } from "./workload.ts";

function group(name: string): ClientGroup {
  return {
    name,
    writers: 1,
    rate: 10,
    route: {
      kind: "hosts",
      targets: [name],
      endpoint: () => ({ host: name, port: 5432, user: "u", password: "p", database: "postgres" }),
      accept: "read-write",
    },
    readers: { primary: 0, replica: 0, rate: 0 },
    replicaRoute: null,
  };
}

function op(id: number, group: string, invoke_ns: number, outcome: Outcome): WriteOperation {
  return {
    id,
    group,
    writer: `${group}/w1`,
    invoke_ns,
    complete_ns: invoke_ns + 1000,
    outcome,
    node: outcome === "ok" ? "n2" : null,
    timeline: outcome === "ok" ? 2 : null,
    lsn: outcome === "ok" ? "0/3000000" : null,
    error: outcome === "ok" ? null : "connection refused",
  };
}

describe("Workload.acksOnEachPathSince", () => {
  const workload = () =>
    new Workload({
      groups: [group("direct"), group("haproxy")],
      write: { kind: "ledger" },
      writerNames: [],
      seed: 1,
      timeoutMs: 1000,
      memberAt: () => undefined,
      clock: new RunClock(),
    });

  it("names every path without an ack for a write sent since then", () => {
    const w = workload();
    w.record(op(1, "direct", 100, "ok"));
    w.record(op(2, "haproxy", 100, "ok"));
    w.record(op(3, "direct", 500, "ok"));
    w.record(op(4, "haproxy", 500, "fail"));
    const seen = w.acksOnEachPathSince(200);
    expect(seen.missing).toEqual(["haproxy"]);
    expect([...seen.acks.keys()]).toEqual(["direct"]);
    expect(seen.acks.get("direct")?.id).toBe(3);
  });

  it("is complete once every path has acknowledged, with each path's first ack", () => {
    const w = workload();
    w.record(op(1, "direct", 300, "ok"));
    w.record(op(2, "haproxy", 300, "unknown"));
    w.record(op(3, "haproxy", 400, "ok"));
    w.record(op(4, "haproxy", 500, "ok"));
    const seen = w.acksOnEachPathSince(200);
    expect(seen.missing).toEqual([]);
    expect(seen.acks.get("haproxy")?.id).toBe(3);
  });

  it("does not count a placed group's writes as a path", () => {
    const w = workload();
    w.record(op(1, "app-beside-primary", 300, "ok"));
    w.record(op(2, "direct", 300, "ok"));
    const seen = w.acksOnEachPathSince(200);
    expect(seen.missing).toEqual(["haproxy"]);
    expect(seen.acks.has("app-beside-primary")).toBe(false);
  });
});
