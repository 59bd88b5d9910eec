import { Resolver } from "node:dns/promises";
import { join } from "node:path";
import { setTimeout as wait } from "node:timers/promises";
import { pollUntil } from "../common/clock.ts";
import { Random } from "../common/random.ts";
import type { PostgresEndpoint } from "../model/cluster.ts";
import {
  POSTGRES_PORT,
  POSTGRES_USER,
  componentVersions,
  prepareMemberDir,
  processLog,
} from "../topology/members.ts";
import {
  AUTHORITY_PORT,
  type EntryPoint,
  type EntryPointContext,
  type EntryPointObserver,
  RESOLVER_PORT,
} from "./entrypoint.ts";

/** The cluster's own domain, served only by the name service (never forwarded anywhere). */
export const CLUSTER_DOMAIN = "pgchaos.internal";
/** The name applications connect to, as Data Services Manager's `primary.<fqdn>`. */
export const PRIMARY_NAME = `primary.${CLUSTER_DOMAIN}`;
const SOURCE = "dns re-pointer";
const DNSMASQ = "/usr/sbin/dnsmasq";
/** How long the re-pointer waits for its server to answer a new record before it gives up on this poll. */
const CONFIRM_MS = 10_000;

/**
 * A DNS name that follows the primary late, as Data Services Manager's control plane moves
 * `primary.<fqdn>` with "Promote Replica" after polling the cluster every 5 minutes.
 *
 * Its host runs two dnsmasq processes (dnsmasq: one small Debian binary that both serves a hosts
 * directory it re-reads on change, with a chosen TTL, and caches what it forwards for exactly the
 * TTL it was given; bind9 or unbound would need zone files or a control channel to do the same):
 * - the authority for the cluster's domain, answering `primary.<domain>` from a records directory;
 * - the resolver applications use, caching answers for their TTL as a site resolver or
 *   systemd-resolved does (glibc itself caches nothing).
 * The entry point's writers run on this host and resolve through that resolver with getaddrinfo;
 * placed groups that connect by name use it from their own hosts. A poller asks the HA manager who
 * the primary is every `interval` and, when that changed, rewrites the record.
 */
export class DnsEntryPoint implements EntryPoint {
  readonly kind = "dns";
  readonly member = "dns";
  /** The member the name points at, as its authority last answered. */
  private pointsAt: string | null = null;

  constructor(private readonly context: EntryPointContext) {}

  private host() {
    return this.context.backend.member(this.member);
  }

  private records(): string {
    return join(this.host().dir, "records");
  }

  async start(): Promise<void> {
    const { primary } = await this.context.topology.status();
    if (!primary) throw new Error("dns: the cluster has no primary to name");
    await prepareMemberDir(this.host(), ["records"]);
    await this.writeRecord(primary);
    await this.restart();
    // The entry point's own writers resolve through its resolver, on loopback.
    await this.host().useNameServer("127.0.0.1");
    const answered = await this.confirm(primary, RESOLVER_PORT);
    if (!answered)
      throw new Error(`dns: ${PRIMARY_NAME} did not resolve to ${primary} within ${CONFIRM_MS / 1000}s`);
    this.pointsAt = primary;
  }

  async restart(): Promise<void> {
    const host = this.host();
    const common = [
      "--keep-in-foreground",
      "--log-facility=-",
      "--conf-file=/dev/null",
      `--user=${POSTGRES_USER}`,
      `--group=${POSTGRES_USER}`,
      "--bind-interfaces",
      "--no-resolv",
      "--no-hosts",
    ];
    const { ttlS } = this.context.nameService;
    const spawn = (argv: string[]) =>
      // Root binds port 53; dnsmasq then runs as postgres, a service user faults can signal.
      host.spawn({ argv, user: "root", cwd: host.dir, logFile: processLog(host), env: {} });
    await spawn([
      DNSMASQ,
      ...common,
      // In the member's directory: the path names the run, as every process of the run's should.
      `--pid-file=${join(host.dir, "authority.pid")}`,
      `--port=${AUTHORITY_PORT}`,
      `--listen-address=${host.address}`,
      `--hostsdir=${this.records()}`,
      `--local=/${CLUSTER_DOMAIN}/`,
      `--local-ttl=${ttlS}`,
    ]);
    await spawn([
      DNSMASQ,
      ...common,
      "--log-queries",
      `--pid-file=${join(host.dir, "resolver.pid")}`,
      `--port=${RESOLVER_PORT}`,
      `--listen-address=127.0.0.1,${host.address}`,
      `--server=/${CLUSTER_DOMAIN}/${host.address}#${AUTHORITY_PORT}`,
      "--cache-size=1000",
    ]);
  }

  /** What clients inside a member dial: the name, which only they can resolve (the harness cannot). */
  endpoint(): PostgresEndpoint {
    const [node] = this.context.topology.postgresMembers();
    if (!node) throw new Error("dns: the topology has no PostgreSQL member to name");
    return { ...this.context.topology.endpoint(node), host: PRIMARY_NAME, port: POSTGRES_PORT };
  }

  /** Where other hosts' clients send their queries: this host's resolver. */
  nameServer(): string {
    return this.host().address;
  }

  logFiles(): string[] {
    return [processLog(this.host())];
  }

  async version(): Promise<string> {
    const { dnsmasq } = await componentVersions(this.host(), { dnsmasq: DNSMASQ });
    const version = /version (\S+)/.exec(dnsmasq ?? "")?.[1];
    return version ? `dnsmasq ${version}` : "unknown";
  }

  follow(observer: EntryPointObserver): () => Promise<void> {
    const { intervalMs } = this.context.nameService;
    // A control plane's poll has its own phase: drawn from the run's seed, so a run replays exactly.
    const firstMs = Math.floor(new Random(observer.seed).next() * intervalMs);
    const stop = new AbortController();
    const loop = async () => {
      for (let next = Date.now() + firstMs; ; next += intervalMs) {
        // Stopping cuts the wait short: a 5-minute wait must not keep the process alive after the run.
        const due = await wait(Math.max(0, next - Date.now()), true, { signal: stop.signal }).catch(
          () => false,
        );
        if (!due) return;
        // A control plane that fails one poll tries again at the next: said on the timeline, not fatal.
        await this.poll(observer).catch((error: Error) =>
          observer.event({
            at_ns: observer.clock.nowNs(),
            kind: "ha",
            source: SOURCE,
            member: null,
            text: `poll failed: ${error.message}`,
          }),
        );
      }
    };
    const running = loop();
    return async () => {
      stop.abort();
      await running;
    };
  }

  /** One poll: ask the HA manager who the primary is and, when the name points elsewhere, move it. */
  private async poll(observer: EntryPointObserver): Promise<void> {
    const { primary } = await this.context.topology.status();
    if (!primary || primary === this.pointsAt) return;
    await this.writeRecord(primary);
    if (!(await this.confirm(primary, AUTHORITY_PORT)))
      throw new Error(
        `${PRIMARY_NAME} still not answered with ${primary} ${CONFIRM_MS / 1000}s after its record changed`,
      );
    const from = this.pointsAt;
    this.pointsAt = primary;
    const address = this.context.backend.member(primary).address;
    observer.event({
      at_ns: observer.clock.nowNs(),
      kind: "repoint",
      source: SOURCE,
      name: PRIMARY_NAME,
      from,
      to: primary,
      text: `Promote Replica: ${PRIMARY_NAME} → ${primary} (${address}), TTL ${this.context.nameService.ttlS} s`,
    });
  }

  private async writeRecord(primary: string): Promise<void> {
    const address = this.context.backend.member(primary).address;
    await this.host().writeFile(join(this.records(), "primary"), `${address} ${PRIMARY_NAME}\n`, {
      mode: 0o644,
      owner: POSTGRES_USER,
    });
  }

  /** Until the server on `port` answers the name with the primary's address (the authority re-reads on change). */
  private async confirm(primary: string, port: number): Promise<boolean> {
    const address = this.context.backend.member(primary).address;
    const resolver = new Resolver({ timeout: 500, tries: 1 });
    resolver.setServers([`${this.host().endpoint(port).host}:${port}`]);
    const answered = await pollUntil(
      async () => {
        const addresses = await resolver.resolve4(PRIMARY_NAME).catch((): string[] => []);
        return addresses.includes(address) ? true : undefined;
      },
      CONFIRM_MS,
      50,
    );
    return answered === true;
  }
}
