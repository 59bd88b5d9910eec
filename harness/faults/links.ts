import { z } from "zod";
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
import { type FaultContext, type Healable, type Sides, defineFault } from "./fault.ts";
import { direction, durationMs, sides } from "./options.ts";

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
  between: Sides,
  oneWay: boolean,
): Promise<Link[]> {
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

/** The step keys every fault on links owns: the two sides, and which way. */
const linkKeys = {
  between: sides.describe(
    "latency, bandwidth, reset-peer, slow-close: the links they act on (all but bandwidth also [[clients], [entrypoint]]: the harness's own connections)",
  ),
  direction: direction.describe(
    "latency, bandwidth, reset-peer, slow-close: only connections the first group opens to the second",
  ),
};

type LinkOptions = { between: Sides; direction?: "both" | "one-way" | undefined };

/** Clients open connections and accept none: a link to them exists only from their side. */
function noLinkToClients({ between: [, sideB], direction }: LinkOptions, ctx: z.RefinementCtx): void {
  if (direction === "one-way" && sideB.includes(CLIENTS) && sideB.length === 1) {
    ctx.addIssue({
      code: "custom",
      path: ["between"],
      message:
        "one-way from members to clients is no link (members open no connection to clients); write [[clients], [...]]",
    });
  }
}

/** Where a fault on links lands: between its two sides. */
const onLinks = {
  keys: ["between"],
  at: ({ between }: LinkOptions) => ({ target: null, between }),
} as const;

/** Each instance of a fault gets its own Toxiproxy and nft table names (two may overlap in time). */
let instances = 0;

/** Toxiproxy in every member a link passes through, the toxic on each link; undone in reverse on failure. */
async function proxied(
  fault: "latency" | "reset-peer" | "slow-close",
  members: string[],
  context: FaultContext,
  { between, direction }: LinkOptions,
  toxic: LinkToxic,
): Promise<Healable> {
  const links = await resolveLinks(fault, context, between, direction === "one-way");
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
    members,
    async heal() {
      const failures: string[] = [];
      for (const proxy of started) await proxy.stop().catch((e: Error) => failures.push(e.message));
      if (failures.length > 0) throw new Error(failures.join("; "));
    },
  };
}

/** Added round-trip time (and ± jitter) on every connection of the links, through Toxiproxy. */
export const latency = defineFault({
  name: "latency",
  summary: "latency: delay (and jitter) added to every TCP connection between two groups, through Toxiproxy",
  stamp: "end",
  needs: ["proxy"],
  heals: true,
  options: z
    .object({
      ...linkKeys,
      delay: durationMs.describe("latency: round-trip time added to each link (e.g. 200ms)"),
      jitter: durationMs.optional().describe("with latency: the delay varies by ± jitter"),
    })
    .superRefine(noLinkToClients),
  aim: onLinks,
  nemesis: null,
  inject(members, context, options) {
    return proxied("latency", members, context, options, {
      kind: "latency",
      delayMs: options.delay,
      jitterMs: options.jitter ?? 0,
    });
  },
});

/**
 * The links held to `kbps` each, by htb on the sending side. Both ways: everything each side sends
 * the other. One-way: only the connections the first group opens, both of their directions (the
 * first group's packets to the second's ports, the second's answers from them).
 */
export const bandwidth = defineFault({
  name: "bandwidth",
  summary: "bandwidth: a rate limit on those links (kbps)",
  stamp: "end",
  needs: ["shaping"],
  heals: true,
  options: z
    .object({
      ...linkKeys,
      kbps: z.number().int().min(1).describe("bandwidth: each link's rate limit, kilobits per second"),
    })
    .superRefine(({ between }, ctx) => {
      if (between.flat().includes(CLIENTS)) {
        ctx.addIssue({
          code: "custom",
          path: ["between"],
          message:
            "bandwidth shapes what members send and cannot name clients; use latency or reset-peer for the clients' links",
        });
      }
    })
    .superRefine(noLinkToClients),
  aim: onLinks,
  nemesis: null,
  async inject(members, context, { between, direction, kbps }) {
    if (between.flat().includes(CLIENTS)) {
      throw new Error("bandwidth shapes what members send; the clients' links take latency or reset-peer");
    }
    const oneWay = direction === "one-way";
    const links = await resolveLinks("bandwidth", context, between, oneWay);
    const limits = egressLimits(context.backend, links, oneWay);
    const shaped: { member: string; device: string }[] = [];
    try {
      for (const [member, own] of limits) {
        shaped.push({ member, device: await shapeEgress(context.backend.member(member), own, kbps) });
      }
    } catch (error) {
      for (const { member, device } of shaped) await unshapeEgress(context.backend.member(member), device);
      throw error;
    }
    return {
      members,
      async heal() {
        for (const { member, device } of shaped) await unshapeEgress(context.backend.member(member), device);
      },
    };
  },
});

/** Every connection of the links reset by the peer (Toxiproxy's reset_peer), new ones as they come. */
export const resetPeer = defineFault({
  name: "reset-peer",
  summary: "reset-peer: those connections reset (Toxiproxy's reset_peer), new ones too",
  stamp: "end",
  needs: ["proxy"],
  heals: true,
  options: z.object(linkKeys).superRefine(noLinkToClients),
  aim: onLinks,
  nemesis: null,
  inject(members, context, options) {
    return proxied("reset-peer", members, context, options, { kind: "reset-peer" });
  },
});

/**
 * Every close on the links held back by `delay`, both ways (Toxiproxy's slow_close): a client that
 * hangs up is still connected for the server that long, a server that ends a session (a demoted
 * primary) leaves its clients waiting on a dead connection.
 */
export const slowClose = defineFault({
  name: "slow-close",
  summary: "slow-close: each of those connections' close held back by delay (Toxiproxy's slow_close)",
  stamp: "end",
  needs: ["proxy"],
  heals: true,
  options: z
    .object({ ...linkKeys, delay: durationMs.describe("slow-close: how long each close is held") })
    .superRefine(noLinkToClients),
  aim: onLinks,
  nemesis: null,
  inject(members, context, options) {
    return proxied("slow-close", members, context, options, { kind: "slow-close", delayMs: options.delay });
  },
});

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
