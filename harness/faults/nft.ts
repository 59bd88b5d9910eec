/** nftables rulesets the network faults load into a member's own namespace (never the host's). */

export const PARTITION_TABLE = "pgchaos_partition";
export const LOSS_TABLE = "pgchaos_loss";

const chains = (input: string[], output: string[]) => `
  chain input { type filter hook input priority -100; policy accept; iifname "lo" accept; ${input.join(" ")} }
  chain output { type filter hook output priority -100; policy accept; oifname "lo" accept; ${output.join(" ")} }`;

/** Everything in and out dropped, loopback excepted: the member is cut off from peers and clients. */
export function isolateRuleset(): string {
  return `table inet ${PARTITION_TABLE} {${chains(["drop;"], ["drop;"])}\n}\n`;
}

/** Packets to and/or from these addresses dropped. */
export function dropRuleset(table: string, fromAddresses: string[], toAddresses: string[]): string {
  const set = (addresses: string[]) => `{ ${addresses.join(", ")} }`;
  const input = fromAddresses.length > 0 ? [`ip saddr ${set(fromAddresses)} drop;`] : [];
  const output = toAddresses.length > 0 ? [`ip daddr ${set(toAddresses)} drop;`] : [];
  return `table inet ${table} {${chains(input, output)}\n}\n`;
}

/** A random share of packets dropped both ways (nft numgen; tc netem does not exist on this kernel). */
export function lossRuleset(percent: number): string {
  const rule = [`numgen random mod 100 < ${Math.round(percent)} drop;`];
  return `table inet ${LOSS_TABLE} {${chains(rule, rule)}\n}\n`;
}
