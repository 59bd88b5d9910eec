import { describe, expect, it } from "vitest";
import type { ReadOperation, WriteOperation } from "../model/history.ts";
import { listAppendEdn, registerEdn } from "./edn.ts";

function write(
  id: number,
  writer: string,
  invoke: number,
  complete: number,
  outcome: WriteOperation["outcome"] = "ok",
): WriteOperation {
  return {
    id,
    group: "direct",
    writer,
    invoke_ns: invoke,
    complete_ns: complete,
    outcome,
    node: "n1",
    timeline: 1,
    lsn: null,
    error: null,
  };
}

describe("listAppendEdn", () => {
  it("pairs each transaction's invocation and completion, reads nil until they are known", () => {
    const history = [
      {
        ...write(1, "direct/w1", 10, 20),
        txn: [
          { f: "append" as const, key: 3, value: 4 },
          { f: "r" as const, key: 3, value: [4] },
        ],
      },
      { ...write(2, "direct/w2", 15, 30, "unknown"), txn: [{ f: "append" as const, key: 3, value: 8 }] },
      write(3, "direct/w1", 40, 50),
    ];
    expect(listAppendEdn(history)).toBe(
      [
        "{:type :invoke, :f :txn, :value [[:append 3 4] [:r 3 nil]], :process 0, :time 10, :index 0}",
        "{:type :invoke, :f :txn, :value [[:append 3 8]], :process 1, :time 15, :index 1}",
        "{:type :ok, :f :txn, :value [[:append 3 4] [:r 3 [4]]], :process 0, :time 20, :index 2}",
        "{:type :info, :f :txn, :value [[:append 3 8]], :process 1, :time 30, :index 3}",
        "",
      ].join("\n"),
    );
  });

  it("moves a client on to a new process after an indeterminate operation, as Jepsen does", () => {
    const history = [
      { ...write(1, "direct/w1", 10, 20, "unknown"), txn: [{ f: "append" as const, key: 1, value: 4 }] },
      { ...write(2, "direct/w1", 30, 40), txn: [{ f: "append" as const, key: 1, value: 8 }] },
    ];
    const processes = [...listAppendEdn(history).matchAll(/:process (\d+)/g)].map((m) => m[1]);
    expect(processes).toEqual(["0", "0", "1", "1"]);
  });
});

describe("registerEdn", () => {
  it("exports each writer as a register: writes of ids, reads of each writer's highest id", () => {
    // Processes go by client name: direct/replica/r1, direct/w1, direct/w2.
    const read: ReadOperation = {
      group: "direct",
      target: "replica",
      reader: "direct/replica/r1",
      invoke_ns: 25,
      complete_ns: 26,
      outcome: "ok",
      node: "n2",
      in_recovery: true,
      timeline: 1,
      lsn: "0/1",
      heads: { "direct/w2": null, "direct/w1": 7 },
      error: null,
    };
    expect(registerEdn([write(7, "direct/w1", 10, 20), write(9, "direct/w2", 21, 30, "fail")], [read])).toBe(
      [
        "{:type :invoke, :f :txn, :value [[:w 0 7]], :process 1, :time 10, :index 0}",
        "{:type :ok, :f :txn, :value [[:w 0 7]], :process 1, :time 20, :index 1}",
        "{:type :invoke, :f :txn, :value [[:w 1 9]], :process 2, :time 21, :index 2}",
        "{:type :invoke, :f :txn, :value [[:r 0 nil] [:r 1 nil]], :process 0, :time 25, :index 3}",
        "{:type :ok, :f :txn, :value [[:r 0 7] [:r 1 nil]], :process 0, :time 26, :index 4}",
        "{:type :fail, :f :txn, :value [[:w 1 9]], :process 2, :time 30, :index 5}",
        "",
      ].join("\n"),
    );
  });
});
