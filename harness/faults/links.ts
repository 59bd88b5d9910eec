import type { StartedBackend } from "../backend/backend.ts";
import { type EgressLimit, shapeEgress, unshapeEgress } from "../backend/shaping.ts";
import {
  type LinkToxic,
  MemberProxy,
  type ProxyRoute,
  type Upstream,
  listeningPorts,
  reachablePorts,
} from "../backend/toxiproxy.ts";
import type { FaultOptions } from "../model/scenario.ts";
import type { ActiveFault, Fault, FaultContext } from "./fault.ts";

/**
 * Faults on the links between two groups of members: latency and reset-peer through a Toxiproxy
 * inside the member that opens the connections (see backend/toxiproxy.ts), bandwidth with the
 * kernel's htb on the sending member's interface (backend/shaping.ts).
 *
 * A link A → B is every TCP connection member A opens to a port member B listens on (as `ss` shows
 * it when the fault lands). `between: [X, Y]` means both X → Y and Y → X; `direction: one-way`
 * only X → Y. `clients` — the harness's own connections (writers, readers, and its observers too,
 * as in a partition) — only ever open connections: clients → B is proxied inside B, on the way in;
 * B → clients is no link at all. Bandwidth shapes only what members send, so it never names clients.
 */

export const CLIENTS = "clients";

export interface Link {
  /** A member, or CLIENTS. */
  from: string;
  to: string;
  /** Ports `to` listens on at its own address (or any). */
  ports: number[];
}

/** The links a step acts on, with each destination's listening ports read once, before anything changes. */
async function resolveLinks(
  fault: string,
  { backend, resolve }: FaultContext,
  between: FaultOptions["between"],
  oneWay: boolean,
): Promise<Link[]> {
  if (!between) throw new Error(`${fault} needs between`);
  const [sideA, sideB] = between.map((groups) => [
    ...new Set(groups.flatMap((group) => (group === CLIENTS ? [CLIENTS] : resolve(group)))),
  ]) as [string[], string[]];
  const both = sideA.filter((member) => sideB.includes(member));
  if (both.length > 0) throw new Error(`${fault}: ${both.join(", ")} on both sides`);
  const pairs = [
    ...sideA.flatMap((from) => sideB.map((to) => ({ from, to }))),
    ...(oneWay ? [] : sideB.flatMap((from) => sideA.map((to) => ({ from, to })))),
  ].filter((pair) => pair.to !== CLIENTS);
  const ports = new Map<string, number[]>();
  for (const to of new Set(pairs.map((p) => p.to))) {
    const member = backend.member(to);
    ports.set(to, reachablePorts(await listeningPorts(member), member.address));
  }
  return pairs.map((pair) => ({ ...pair, ports: ports.get(pair.to) ?? [] }));
}

/** Each member's proxy routes: what it opens to peers, and what the clients open to it. */
function proxyRoutes(backend: StartedBackend, links: Link[]): { member: string; route: ProxyRoute }[] {
  const outbound = new Map<string, Upstream[]>();
  const inbound = new Map<string, number[]>();
  for (const link of links) {
    if (link.from === CLIENTS) {
      inbound.set(link.to, [...(inbound.get(link.to) ?? []), ...link.ports]);
      continue;
    }
    const address = backend.member(link.to).address;
    const upstreams = link.ports.map((port) => ({ address, port }));
    outbound.set(link.from, [...(outbound.get(link.from) ?? []), ...upstreams]);
  }
  const routes: { member: string; route: ProxyRoute }[] = [];
  for (const [member, upstreams] of outbound) {
    if (upstreams.length > 0) routes.push({ member, route: { kind: "outbound", upstreams } });
  }
  for (const [member, ports] of inbound) {
    const from = backend.harnessAddress;
    if (ports.length > 0)
      routes.push({ member, route: { kind: "inbound", from, ports: [...new Set(ports)] } });
  }
  return routes;
}

/** Each instance of a fault gets its own Toxiproxy and nft table names (two may overlap in time). */
let instances = 0;

/** Toxiproxy in every member a link passes through, the toxic on each link; undone in reverse on failure. */
async function proxied(
  fault: "latency" | "reset-peer" | "slow-close",
  members: string[],
  context: FaultContext,
  options: FaultOptions,
  toxic: LinkToxic,
): Promise<Omit<ActiveFault, "target">> {
  const links = await resolveLinks(fault, context, options.between, options.oneWay);
  const name = `${fault.replace("-", "_")}${++instances}`;
  const started: MemberProxy[] = [];
  const reset: string[] = [];
  try {
    for (const { member, route } of proxyRoutes(context.backend, links)) {
      const own = `${name}_${route.kind === "outbound" ? "out" : "in"}`;
      const proxy = await MemberProxy.start(context.backend.member(member), own, route, toxic);
      started.push(proxy);
      reset.push(...proxy.reset.map((c) => `${member} ${c}`));
    }
  } catch (error) {
    for (const proxy of started.reverse()) await proxy.stop().catch(() => {});
    throw error;
  }
  if (started.length === 0) throw new Error(`${fault}: no member on either side listens on any port`);
  return {
    fault,
    members,
    async heal() {
      const failures: string[] = [];
      for (const proxy of started) await proxy.stop().catch((e: Error) => failures.push(e.message));
      if (failures.length > 0) throw new Error(failures.join("; "));
    },
  };
}

/** Added round-trip time (and ± jitter) on every connection of the links, through Toxiproxy. */
export const latency: Fault = {
  name: "latency",
  stamp: "end",
  needs: ["proxy"],
  inject(members, context, options) {
    if (options.delayMs === null) throw new Error("latency needs delay");
    return proxied("latency", members, context, options, {
      kind: "latency",
      delayMs: options.delayMs,
      jitterMs: options.jitterMs ?? 0,
    });
  },
};

/** Every connection of the links reset by the peer (Toxiproxy's reset_peer), new ones as they come. */
export const resetPeer: Fault = {
  name: "reset-peer",
  stamp: "end",
  needs: ["proxy"],
  inject(members, context, options) {
    return proxied("reset-peer", members, context, options, { kind: "reset-peer" });
  },
};

/**
 * Every close on the links held back by `delay`, both ways (Toxiproxy's slow_close): a client that
 * hangs up is still connected for the server that long, a server that ends a session (a demoted
 * primary) leaves its clients waiting on a dead connection.
 */
export const slowClose: Fault = {
  name: "slow-close",
  stamp: "end",
  needs: ["proxy"],
  inject(members, context, options) {
    if (options.delayMs === null) throw new Error("slow-close needs delay");
    return proxied("slow-close", members, context, options, { kind: "slow-close", delayMs: options.delayMs });
  },
};

/**
 * The links held to `kbps` each, by htb on the sending side. Both ways: everything each side sends
 * the other. One-way: only the connections the first group opens, both of their directions (the
 * first group's packets to the second's ports, the second's answers from them).
 */
export const bandwidth: Fault = {
  name: "bandwidth",
  stamp: "end",
  needs: ["shaping"],
  async inject(members, context, options) {
    if (options.kbps === null) throw new Error("bandwidth needs kbps");
    if (options.between?.flat().includes(CLIENTS)) {
      throw new Error("bandwidth shapes what members send; the clients' links take latency or reset-peer");
    }
    const links = await resolveLinks("bandwidth", context, options.between, options.oneWay);
    const limits = egressLimits(context.backend, links, options.oneWay);
    const shaped: { member: string; device: string }[] = [];
    try {
      for (const [member, own] of limits) {
        shaped.push({ member, device: await shapeEgress(context.backend.member(member), own, options.kbps) });
      }
    } catch (error) {
      for (const { member, device } of shaped) await unshapeEgress(context.backend.member(member), device);
      throw error;
    }
    return {
      fault: "bandwidth",
      members,
      async heal() {
        for (const { member, device } of shaped) await unshapeEgress(context.backend.member(member), device);
      },
    };
  },
};

/** Per member, the egress each link limits (see bandwidth). */
export function egressLimits(
  backend: Pick<StartedBackend, "member">,
  links: Link[],
  oneWay: boolean,
): Map<string, EgressLimit[]> {
  const limits = new Map<string, EgressLimit[]>();
  const add = (member: string, limit: EgressLimit) =>
    limits.set(member, [...(limits.get(member) ?? []), limit]);
  const address = (member: string) => backend.member(member).address;
  for (const link of links) {
    if (!oneWay) {
      add(link.from, { to: address(link.to) });
      continue;
    }
    if (link.ports.length === 0) continue;
    add(link.from, { to: address(link.to), dports: link.ports });
    add(link.to, { to: address(link.from), sports: link.ports });
  }
  return limits;
}
