import { describe, expect, it } from "vitest";
import { nftRuleset, nftTable } from "./nft.ts";

describe("nftables rulesets", () => {
  it("isolates everything but loopback", () => {
    const rules = nftRuleset("t", { kind: "isolate" });
    expect(rules).toContain('iifname "lo" accept; drop;');
    expect(rules).toContain('oifname "lo" accept; drop;');
  });

  it("drops only the named peers, each direction on its own", () => {
    const oneWay = nftRuleset("t", { kind: "drop", from: [], to: ["10.0.0.12", "10.0.0.13"] });
    expect(oneWay).toContain("ip daddr { 10.0.0.12, 10.0.0.13 } drop;");
    expect(oneWay).not.toContain("saddr");
    expect(nftRuleset("t", { kind: "drop", from: ["10.0.0.1"], to: [] })).toContain(
      "ip saddr { 10.0.0.1 } drop;",
    );
  });

  it("drops a random share of packets both ways", () => {
    const rules = nftRuleset("t", { kind: "loss", percent: 30 });
    expect(rules.match(/numgen random mod 100 < 30 drop;/g)).toHaveLength(2);
  });

  it("names tables so that any filter name is a valid identifier", () => {
    expect(nftTable("packet-loss")).toBe("pgchaos_packet_loss");
  });
});
