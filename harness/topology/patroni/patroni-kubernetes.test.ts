import { describe, expect, it } from "vitest";
import { type PatroniObjects, clusterMembers } from "./patroni-kubernetes.ts";

const status = (state: string, role: string, xlog?: number) =>
  JSON.stringify({
    conn_url: "postgres://10.0.0.1:5432/postgres",
    state,
    role,
    version: "3.0.2",
    timeline: 2,
    ...(xlog === undefined ? {} : { xlog_location: xlog }),
  });

describe("Patroni's members read from its Kubernetes objects, as /cluster lists them", () => {
  const objects: PatroniObjects = {
    endpoints: new Map<string, Record<string, string>>([
      ["hippo-ha", { leader: "n2", optime: "5000", renewTime: "r", acquireTime: "a", ttl: "10" }],
      ["hippo-ha-sync", { leader: "n2", sync_standby: "n3" }],
      ["hippo-ha-config", { config: "{}" }],
    ]),
    pods: new Map<string, Record<string, string>>([
      ["n1", { status: status("running", "replica") }],
      ["n2", { status: status("running", "master", 5000) }],
      ["n3", { status: status("running", "replica", 4200) }],
      ["n4", {}],
    ]),
  };

  it("names the lock holder leader, the -sync Endpoints' standby sync_standby, and each lag from the leader's optime", () => {
    expect(clusterMembers(objects, "hippo-ha", "n2")).toEqual([
      { name: "n1", role: "replica", state: "running", timeline: 2, lag: "unknown" },
      { name: "n2", role: "leader", state: "running", timeline: 2 },
      { name: "n3", role: "sync_standby", state: "running", timeline: 2, lag: 800 },
      { name: "n4", role: "replica", state: "", lag: "unknown" },
    ]);
  });

  it("has no leader when the lock is not valid, whatever the Pods' stale status says", () => {
    const members = clusterMembers(objects, "hippo-ha", null);
    expect(members.find((m) => m.role === "leader")).toBeUndefined();
    expect(members.find((m) => m.name === "n2")?.lag).toBe(0);
  });
});
