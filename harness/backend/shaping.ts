import type { StartedMember } from "./backend.ts";

/**
 * Traffic a member sends to one peer that is held to a rate: everything to that address, or only
 * packets to some of its ports (dports) or from some of the member's own (sports).
 */
export interface EgressLimit {
  to: string;
  dports?: number[];
  sports?: number[];
}

/** One htb class per peer (each link its own rate), from this minor number on. */
const FIRST_CLASS = 10;

/**
 * tc batch commands for an htb root qdisc on `device`. htb without a default class sends
 * unclassified traffic out unshaped, so only the filters' matches are limited. `kbps` is kilobits
 * per second (tc's `kbit`; its own `kbps` would be kilobytes).
 */
export function shapingBatch(device: string, limits: EgressLimit[], kbps: number): string {
  const lines = [`qdisc add dev ${device} root handle 1: htb`];
  for (const [index, limit] of limits.entries()) {
    const flow = `1:${FIRST_CLASS + index}`;
    lines.push(`class add dev ${device} parent 1: classid ${flow} htb rate ${kbps}kbit ceil ${kbps}kbit`);
    const dst = `match ip dst ${limit.to}/32`;
    const ports = [
      ...(limit.dports ?? []).map((port) => `match ip dport ${port} 0xffff`),
      ...(limit.sports ?? []).map((port) => `match ip sport ${port} 0xffff`),
    ];
    for (const port of ports.length > 0 ? ports : [""]) {
      const match = port ? `${dst} ${port}` : dst;
      lines.push(`filter add dev ${device} parent 1: protocol ip prio 1 u32 ${match} flowid ${flow}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

/** The interface a member reaches a peer through (eth0 on both backends, but asked, not assumed). */
async function deviceTowards(member: StartedMember, address: string): Promise<string> {
  const result = await member.exec(["ip", "-o", "route", "get", address]);
  const device = result.stdout.match(/\bdev (\S+)/)?.[1];
  if (result.code !== 0 || !device) {
    throw new Error(`no route from ${member.name} to ${address}: ${result.stderr.trim()}`);
  }
  return device;
}

/** A member's egress held to `kbps` per peer; heal with the device's qdisc removed. */
export async function shapeEgress(
  member: StartedMember,
  limits: EgressLimit[],
  kbps: number,
): Promise<string> {
  const device = await deviceTowards(member, limits[0]?.to ?? "");
  const batch = shapingBatch(device, limits, kbps);
  const result = await member.exec(["sh", "-c", 'printf "%s" "$1" | tc -batch -', "sh", batch]);
  if (result.code !== 0) {
    await unshapeEgress(member, device).catch(() => {});
    const detail = result.stderr.trim();
    throw new Error(
      `tc on ${member.name}: ${/Exclusivity|File exists/.test(detail) ? `${device} is already shaped (another bandwidth fault?)` : detail}`,
    );
  }
  return device;
}

export async function unshapeEgress(member: StartedMember, device: string): Promise<void> {
  const result = await member.exec(["tc", "qdisc", "del", "dev", device, "root"]);
  // Already gone (the member's namespace was recreated, or nothing was added) is fine.
  if (result.code !== 0 && !/No such file|Cannot delete qdisc with handle of zero/.test(result.stderr)) {
    throw new Error(`tc qdisc del on ${member.name}: ${result.stderr.trim()}`);
  }
}
