import { describe, expect, it } from "vitest";
import type { ClusterStatus } from "../model/cluster.ts";
import type { Member } from "../model/record.ts";
import { resolveTarget } from "./targets.ts";

const status: ClusterStatus = {
  reachable: true,
  primary: "n2",
  syncStandbys: ["n3"],
  replicas: ["n3", "n1"],
  healthy: true,
  detail: "leader n2",
};
const members: Member[] = [
  ...["n1", "n2", "n3"].map((name): Member => ({ name, kind: "postgres", address: "" })),
  { name: "monitor", kind: "monitor", address: "" },
  ...["e1", "e2", "e3"].map((name): Member => ({ name, kind: "dcs", address: "" })),
];

describe("resolveTarget", () => {
  it("resolves primary to the current leader", () => {
    expect(resolveTarget("primary", status, members)).toEqual(["n2"]);
  });
  it("resolves sync_standby and replica", () => {
    expect(resolveTarget("sync_standby", status, members)).toEqual(["n3"]);
    expect(resolveTarget("replica", status, members)).toEqual(["n1"]);
  });
  it("resolves a named node and rejects an unknown one", () => {
    expect(resolveTarget("node:n1", status, members)).toEqual(["n1"]);
    expect(() => resolveTarget("node:n9", status, members)).toThrow("no such member");
  });
  it("resolves groups: all replicas, the asynchronous ones, the DCS and a DCS majority", () => {
    expect(resolveTarget("replicas", status, members)).toEqual(["n1", "n3"]);
    expect(resolveTarget("async_replicas", status, members)).toEqual(["n1"]);
    expect(resolveTarget("dcs", status, members)).toEqual(["e1", "e2", "e3"]);
    expect(resolveTarget("dcs_majority", status, members)).toEqual(["e1", "e2"]);
  });
  it("resolves the monitor and refuses it where there is none", () => {
    expect(resolveTarget("monitor", status, members)).toEqual(["monitor"]);
    expect(() => resolveTarget("monitor", status, members.slice(0, 3))).toThrow("no monitor right now");
  });
  it("fails when the role does not exist right now", () => {
    expect(() =>
      resolveTarget("primary", { ...status, primary: null, detail: "no running leader" }, members),
    ).toThrow("no primary right now (no running leader)");
  });
});
