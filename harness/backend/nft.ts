import type { TrafficRule } from "./backend.ts";

/**
 * nftables rulesets that realise a TrafficRule inside one member's own network stack (never the
 * host's): both backends load exactly these, so a partition means the same thing on each.
 */
const chains = (input: string[], output: string[]) => `
  chain input { type filter hook input priority -100; policy accept; iifname "lo" accept; ${input.join(" ")} }
  chain output { type filter hook output priority -100; policy accept; oifname "lo" accept; ${output.join(" ")} }`;

const set = (addresses: string[]) => `{ ${addresses.join(", ")} }`;

/** The ruleset for a rule, as table `inet <table>`. */
export function nftRuleset(table: string, rule: TrafficRule): string {
  switch (rule.kind) {
    // Everything in and out dropped, loopback excepted: the member is cut off from peers and clients.
    case "isolate":
      return `table inet ${table} {${chains(["drop;"], ["drop;"])}\n}\n`;
    case "drop": {
      const input = rule.from.length > 0 ? [`ip saddr ${set(rule.from)} drop;`] : [];
      const output = rule.to.length > 0 ? [`ip daddr ${set(rule.to)} drop;`] : [];
      return `table inet ${table} {${chains(input, output)}\n}\n`;
    }
    // A random share both ways (nft numgen; tc netem does not exist on this kernel).
    case "loss": {
      const drop = [`numgen random mod 100 < ${Math.round(rule.percent)} drop;`];
      return `table inet ${table} {${chains(drop, drop)}\n}\n`;
    }
  }
}

/** nft table names are identifiers: a filter's name is used as given, prefixed to stay apart from others. */
export function nftTable(name: string): string {
  return `pgchaos_${name.replaceAll(/[^a-z0-9_]/gi, "_")}`;
}
