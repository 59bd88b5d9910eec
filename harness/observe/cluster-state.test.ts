import { describe, expect, it } from "vitest";
import type { ClusterStatus } from "../model/cluster.ts";
import { summarizeState } from "./cluster-state.ts";

const base: ClusterStatus = {
  reachable: true,
  primary: "n1",
  syncStandbys: [],
  replicas: ["n2"],
  healthy: true,
  detail: "",
};

describe("summarizeState", () => {
  it("distinguishes complete, incomplete, no primary and an unreachable HA manager", () => {
    expect(summarizeState(base)).toBe("complete (primary n1)");
    expect(summarizeState({ ...base, healthy: false })).toBe("incomplete (primary n1)");
    expect(summarizeState({ ...base, primary: null, healthy: false })).toBe("no primary");
    expect(summarizeState({ ...base, reachable: false, primary: null })).toBe("HA manager unreachable");
  });
});
