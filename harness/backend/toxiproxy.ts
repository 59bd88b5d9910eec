import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { Toxiproxy, type Proxy as ToxiproxyProxy } from "toxiproxy-node-client";
import { pollUntil } from "../common/clock.ts";
import {
  INSTRUMENT_API_PORTS,
  INSTRUMENT_MARKER,
  type InstrumentProcess,
  type StartedMember,
} from "./backend.ts";
import { nftTable } from "./nft.ts";

/** Where scripts/ensure-toxiproxy.sh installs Toxiproxy's server (v2.5.0, built from source). */
export const TOXIPROXY_BIN = "/usr/local/lib/pgchaos/toxiproxy-server";

/** Ports a member's proxies listen on: below Linux's ephemeral range, so no outgoing connection holds one. */
const PORT_RANGE = { first: 21_000, last: 29_999 };

/** A peer's port the member's own connections are routed through its Toxiproxy to. */
export interface Upstream {
  address: string;
  port: number;
}

/**
 * Which of the member's connections go through its Toxiproxy: those its own processes open to
 * peers' ports (outbound, a DNAT on the output hook), or those one outside address — the harness's
 * clients — opens to the member's own ports (inbound, a DNAT on the prerouting hook).
 */
export type ProxyRoute =
  | { kind: "outbound"; upstreams: Upstream[] }
  | { kind: "inbound"; from: string; ports: number[] };

/** The real destinations a route's proxies dial: the peers, or the member's own ports. */
function upstreamsOf(member: StartedMember, route: ProxyRoute): Upstream[] {
  return route.kind === "outbound"
    ? route.upstreams
    : route.ports.map((port) => ({ address: member.address, port }));
}

export type LinkToxic =
  /** Round-trip time added: half on each direction, so a request and its answer together pay `delayMs`. */
  | { kind: "latency"; delayMs: number; jitterMs: number }
  /** Every connection reset as soon as it is made (and those through the proxy when it lands). */
  | { kind: "reset-peer" }
  /** Each side's close passed on only `delayMs` after it was asked for. */
  | { kind: "slow-close"; delayMs: number };

/**
 * Toxiproxy inside one member, with the member's own TCP connections to chosen peers' ports routed
 * through it, transparently: the HA manager keeps dialling its peers' real addresses. An nftables
 * DNAT (nat hook output) in the member's namespace sends each new connection of a non-root process
 * (the system under test runs as postgres) to a proxy listening on the member's own address; the
 * proxy, running as root, dials the real peer untouched. Its API listens on the member's address
 * too, so the harness reaches it over the bridge.
 *
 * A DNAT rule only sees new connections: those established before it (replication, Patroni's etcd
 * sessions, etcd's peer streams) would never feel the fault. So injecting resets them once (`ss -K`,
 * which also resets the peer's end, so a walsender does not linger holding its slot); their owners
 * reconnect through the proxy within a second or so. Healing stops Toxiproxy, which closes every
 * connection through it, then removes the DNAT: the owners reconnect directly. Both are part of the fault.
 *
 * Inbound (clients → member) is the same with the DNAT on the prerouting hook, matched on the
 * clients' source address: Toxiproxy's own connection to the member's port is local and never
 * passes that hook, so it is not rerouted again.
 */
export class MemberProxy {
  private constructor(
    private readonly member: StartedMember,
    private readonly table: string,
    private readonly config: string,
    private readonly server: InstrumentProcess,
    /** Toxiproxy's API, as the harness dials it. */
    readonly api: string,
    /** The member's established connections the injection reset (local → peer). */
    readonly reset: string[],
  ) {}

  /**
   * Starts Toxiproxy in `member` with one proxy per upstream, the toxic on each, then the DNAT; on
   * any failure whatever was started is removed again before the error is thrown.
   */
  static async start(
    member: StartedMember,
    name: string,
    route: ProxyRoute,
    toxic: LinkToxic,
  ): Promise<MemberProxy> {
    const upstreams = upstreamsOf(member, route);
    await installToxiproxy(member);
    const listening = await listeningPorts(member);
    const apiPort = freeApiPort(listening, member.name);
    const proxyPorts = freePorts(listening, upstreams.length);
    const proxies = upstreams.map((upstream, index) => ({
      name: `${upstream.address}_${upstream.port}`,
      listen: `${member.address}:${proxyPorts[index]}`,
      upstream: `${upstream.address}:${upstream.port}`,
      enabled: true,
    }));
    // The marker in the config's path makes Toxiproxy an instrument (never signalled by a fault).
    const config = join(member.dir, `${INSTRUMENT_MARKER}-toxiproxy-${name}.json`);
    await member.writeFile(config, JSON.stringify(proxies));
    const server = await member.spawnInstrument({
      argv: [TOXIPROXY_BIN, "-host", member.address, "-port", String(apiPort), "-config", config],
      user: "root",
      env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", HOME: "/root" },
      cwd: "/",
      logFile: join(member.dir, `toxiproxy-${name}.log`),
    });
    const endpoint = member.endpoint(apiPort as number);
    const api = `http://${endpoint.host}:${endpoint.port}`;
    const table = nftTable(`proxy_${name}`);
    try {
      const client = new Toxiproxy(api);
      const listed = await pollUntil(
        async () => {
          if (!server.running()) throw new Error("Toxiproxy exited at start");
          return client.getAll().catch(() => undefined);
        },
        5_000,
        100,
      );
      if (!listed) throw new Error(`Toxiproxy's API did not answer at ${api} within 5s`);
      const missing = proxies.filter((p) => !listed[p.name]).map((p) => p.upstream);
      if (missing.length > 0) throw new Error(`Toxiproxy could not open proxies to ${missing.join(", ")}`);
      for (const proxy of Object.values(listed)) await addToxics(proxy, toxic);
      await loadRuleset(member, dnatRuleset(table, member.address, route, proxyPorts));
      const reset = await resetEstablished(member, route);
      return new MemberProxy(member, table, config, server, api, reset);
    } catch (error) {
      await member.exec(["nft", "delete", "table", "ip", table]);
      await server.stop();
      await member.exec(["rm", "-f", config]);
      const log = (await member.readFile(join(member.dir, `toxiproxy-${name}.log`))) ?? "";
      const last = log.trim().split("\n").slice(-2).join(" | ");
      throw new Error(
        `${member.name}: ${(error as Error).message}${last ? ` (Toxiproxy's log: ${last})` : ""}`,
      );
    }
  }

  /**
   * Toxiproxy first, then the DNAT. The closes of the connections through it must reach their
   * owners translated back (from the peer's address, not the proxy's), and nftables keeps
   * translating an established connection only while a nat chain is on the hook: with the table
   * deleted first, a walreceiver mid-connect through the proxy never saw its close and waited
   * (CI: 60 s without replication after a reset-peer heal). A connection opened in between meets no
   * listener and is refused; its owner retries, directly once the table is gone.
   */
  async stop(): Promise<void> {
    await this.server.stop();
    const deleted = await this.member.exec(["nft", "delete", "table", "ip", this.table]);
    await this.member.exec(["rm", "-f", this.config]);
    if (deleted.code !== 0 && !/No such file or directory/.test(deleted.stderr)) {
      throw new Error(`nft delete table ${this.table} on ${this.member.name}: ${deleted.stderr.trim()}`);
    }
  }
}

async function addToxics(proxy: ToxiproxyProxy, toxic: LinkToxic): Promise<void> {
  if (toxic.kind === "reset-peer") {
    await proxy.addToxic({
      name: "reset_peer",
      type: "reset_peer",
      stream: "downstream",
      toxicity: 1,
      attributes: { timeout: 0 },
    });
    return;
  }
  if (toxic.kind === "slow-close") {
    for (const stream of ["upstream", "downstream"] as const) {
      await proxy.addToxic({
        name: `slow_close_${stream}`,
        type: "slow_close",
        stream,
        toxicity: 1,
        attributes: { delay: toxic.delayMs },
      });
    }
    return;
  }
  // Half the delay each way: a round trip pays it once in full. Jitter likewise, so it stays ± jitterMs.
  const up = Math.floor(toxic.delayMs / 2);
  const upJitter = Math.floor(toxic.jitterMs / 2);
  for (const [stream, latency, jitter] of [
    ["upstream", up, upJitter],
    ["downstream", toxic.delayMs - up, toxic.jitterMs - upJitter],
  ] as const) {
    await proxy.addToxic({
      name: `latency_${stream}`,
      type: "latency",
      stream,
      toxicity: 1,
      attributes: { latency, jitter },
    });
  }
}

/**
 * New connections (SYN only: a packet of an older connection seen mid-stream must not be rerouted)
 * sent to the proxy of their destination. Outbound: every non-root process's connections to each
 * upstream (Toxiproxy runs as root: its own connections go out as they are). Inbound: the clients'
 * connections to each of the member's ports.
 */
export function dnatRuleset(table: string, address: string, route: ProxyRoute, ports: number[]): string {
  const syn = "tcp flags & (syn | ack) == syn";
  const [hook, rules] =
    route.kind === "outbound"
      ? [
          "output",
          route.upstreams.map(
            (upstream, index) =>
              `meta skuid != 0 ip daddr ${upstream.address} tcp dport ${upstream.port} ${syn} dnat to ${address}:${ports[index]}`,
          ),
        ]
      : [
          "prerouting",
          route.ports.map(
            (port, index) =>
              `ip saddr ${route.from} ip daddr ${address} tcp dport ${port} ${syn} dnat to ${address}:${ports[index]}`,
          ),
        ];
  const body = rules.map((rule) => `    ${rule}`).join("\n");
  return `table ip ${table} {\n  chain ${hook} {\n    type nat hook ${hook} priority -100; policy accept;\n${body}\n  }\n}\n`;
}

/** Loads an nft ruleset inside the member (exec has no stdin: the shell hands it over). */
export async function loadRuleset(member: StartedMember, ruleset: string): Promise<void> {
  const result = await member.exec(["sh", "-c", 'printf "%s" "$1" | nft -f -', "sh", ruleset]);
  if (result.code !== 0) throw new Error(`nft on ${member.name}: ${result.stderr.trim()}`);
}

/** A listening socket as `ss -Hltn` shows it. */
export interface Listener {
  address: string;
  port: number;
}

/** Every TCP port the member listens on, with the address it is bound to ("*" for any). */
export async function listeningPorts(member: StartedMember): Promise<Listener[]> {
  const result = await member.exec(["ss", "-Hltn"]);
  if (result.code !== 0) throw new Error(`ss on ${member.name}: ${result.stderr.trim()}`);
  return parseListeners(result.stdout);
}

export function parseListeners(output: string): Listener[] {
  const listeners: Listener[] = [];
  for (const line of output.split("\n")) {
    // State Recv-Q Send-Q Local:Port Peer:Port
    const local = line.trim().split(/\s+/)[3];
    const match = local?.match(/^(.*):(\d+)$/);
    if (!match) continue;
    const address = (match[1] as string).replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, "");
    const any = address === "*" || address === "0.0.0.0" || address === "::";
    listeners.push({ address: any ? "*" : address, port: Number(match[2]) });
  }
  return listeners;
}

/** Ports a peer reaches the member at: bound to its address or to any (loopback-only ones excluded). */
export function reachablePorts(listeners: Listener[], address: string): number[] {
  const ports = listeners.filter((l) => l.address === "*" || l.address === address).map((l) => l.port);
  return [...new Set(ports)].sort((a, b) => a - b);
}

/** The server the harness built (scripts/ensure-toxiproxy.sh), copied into a member that lacks it. */
async function installToxiproxy(member: StartedMember): Promise<void> {
  if ((await member.exec(["test", "-x", TOXIPROXY_BIN])).code === 0) return;
  if (!existsSync(TOXIPROXY_BIN)) {
    throw new Error(
      `Toxiproxy is not installed at ${TOXIPROXY_BIN} — fix: bash scripts/ensure-toxiproxy.sh (as root)`,
    );
  }
  await member.exec(["mkdir", "-p", dirname(TOXIPROXY_BIN)]);
  await member.upload(TOXIPROXY_BIN, TOXIPROXY_BIN, { mode: 0o755 });
}

/** One of the ports a backend publishes for instruments' APIs (two faults on one member take two). */
function freeApiPort(listeners: Listener[], member: string): number {
  const used = new Set(listeners.map((l) => l.port));
  const port = INSTRUMENT_API_PORTS.find((p) => !used.has(p));
  if (port === undefined) throw new Error(`${member}: every instrument API port is taken`);
  return port;
}

function freePorts(listeners: Listener[], count: number): number[] {
  const used = new Set(listeners.map((l) => l.port));
  const ports: number[] = [];
  for (let port = PORT_RANGE.first; port <= PORT_RANGE.last && ports.length < count; port++) {
    if (!used.has(port)) ports.push(port);
  }
  if (ports.length < count)
    throw new Error(`no ${count} free ports in ${PORT_RANGE.first}-${PORT_RANGE.last}`);
  return ports;
}

/** An established TCP connection as `ss -Htne` shows it; uid is absent for root's. */
export interface Connection {
  local: string;
  peer: string;
  uid: number;
}

export function parseConnections(output: string): Connection[] {
  const connections: Connection[] = [];
  for (const line of output.split("\n")) {
    const fields = line.trim().split(/\s+/);
    // Recv-Q Send-Q Local:Port Peer:Port [uid:N] ino:… (state filtered: no state column)
    const [local, peer] = [fields[2], fields[3]];
    if (!local || !peer) continue;
    const uid = line.match(/\buid:(\d+)/)?.[1];
    connections.push({ local, peer, uid: uid ? Number(uid) : 0 });
  }
  return connections;
}

/**
 * Resets the member's established connections the route covers, both ends (`ss -K`), so their
 * owners reconnect through the proxy: outbound, its non-root processes' connections to the
 * upstreams; inbound, the clients' connections to its ports. Returns them as "local → peer".
 */
async function resetEstablished(member: StartedMember, route: ProxyRoute): Promise<string[]> {
  const listed = await member.exec(["ss", "-Htne", "state", "established"]);
  if (listed.code !== 0) throw new Error(`ss on ${member.name}: ${listed.stderr.trim()}`);
  const stale = parseConnections(listed.stdout).filter(covered(member.address, route));
  if (stale.length === 0) return [];
  const filter = stale.flatMap((c, index) => [
    ...(index > 0 ? ["or"] : []),
    "(",
    "src",
    c.local,
    "and",
    "dst",
    c.peer,
    ")",
  ]);
  const killed = await member.exec(["ss", "-HK", "state", "established", ...filter]);
  if (killed.code !== 0) {
    throw new Error(`ss -K on ${member.name} (needs CONFIG_INET_DIAG_DESTROY): ${killed.stderr.trim()}`);
  }
  return stale.map((c) => `${c.local} → ${c.peer}`);
}

/** Whether an established connection of the member is one the route sends through the proxy. */
export function covered(address: string, route: ProxyRoute): (connection: Connection) => boolean {
  if (route.kind === "outbound") {
    const wanted = new Set(route.upstreams.map((u) => `${u.address}:${u.port}`));
    return (c) => c.uid !== 0 && wanted.has(c.peer);
  }
  const wanted = new Set(route.ports.map((port) => `${address}:${port}`));
  return (c) => wanted.has(c.local) && c.peer.startsWith(`${route.from}:`);
}
