import { describe, expect, it } from "vitest";
import { dropRuleset, isolateRuleset, lossRuleset } from "./nft.ts";

describe("nftables rulesets", () => {
  it("isolates everything but loopback", () => {
    const rules = isolateRuleset();
    expect(rules).toContain('iifname "lo" accept; drop;');
    expect(rules).toContain('oifname "lo" accept; drop;');
  });

  it("drops only the named peers, each direction on its own", () => {
    const oneWay = dropRuleset("t", [], ["10.0.0.12", "10.0.0.13"]);
    expect(oneWay).toContain("ip daddr { 10.0.0.12, 10.0.0.13 } drop;");
    expect(oneWay).not.toContain("saddr");
    expect(dropRuleset("t", ["10.0.0.1"], [])).toContain("ip saddr { 10.0.0.1 } drop;");
  });

  it("drops a random share of packets both ways", () => {
    const rules = lossRuleset(30);
    expect(rules.match(/numgen random mod 100 < 30 drop;/g)).toHaveLength(2);
  });
});
