import type { Stack } from "../model/record.ts";
import { type Backend, CAPABILITIES, type StartedBackend, type StartedMember } from "./backend.ts";
import { nftTable } from "./nft.ts";
import { type SshMember, type SshMemberOptions, SshSession, type SshSessionOptions } from "./ssh.ts";

/**
 * What the SSH backend needs of a cluster file (attach/cluster-file.ts builds one): its hosts, the
 * host-key policy and the stack's layout. Declared here so a backend never imports the attach side.
 */
export interface SshCluster {
  /** The cluster file, named in errors. */
  file: string;
  name: string;
  layout: "debian" | "rhel";
  postgresVersion: number;
  /** known_hosts to check host keys against strictly; null: trust on first use. */
  knownHosts: string | null;
  members: readonly { ssh: SshMemberOptions }[];
}

/** The SSH session's host-key policy: the file's known_hosts, checked strictly; else trust on first use. */
export function sessionOptions(cluster: SshCluster, runId: string): SshSessionOptions {
  return cluster.knownHosts === null
    ? { runId }
    : { runId, knownHostsFile: cluster.knownHosts, strictHostKeyChecking: "yes" };
}

/** The SSH members of a cluster file, in order: what an SshSession connects to. */
export function sshMembers(cluster: SshCluster): SshMemberOptions[] {
  return cluster.members.map((m) => m.ssh);
}

/**
 * A cluster pgchaos did not start, as a backend: the cluster file's hosts over one SshSession.
 * start() creates nothing (it connects); destroy() removes only what pgchaos put there — its nft
 * tables and its own empty directory — and never stops a service of the user's.
 */
export class SshBackend implements Backend {
  readonly kind = "ssh" as const;
  readonly capabilities = CAPABILITIES.ssh;
  private session: SshSession | null = null;
  private started: StartedSshBackend | null = null;

  constructor(
    private readonly cluster: SshCluster,
    private readonly runId: string,
  ) {}

  /** Connects to every member of the cluster file; the specs only name who the topology expects. */
  async start(): Promise<StartedBackend> {
    const session = new SshSession(sessionOptions(this.cluster, this.runId));
    this.session = session;
    const members = new Map<string, SshMember>();
    // One at a time: a host that refuses us is named before anything else is touched.
    for (const options of sshMembers(this.cluster)) members.set(options.name, await session.member(options));
    this.started = new StartedSshBackend(this.cluster, members, session);
    return this.started;
  }

  async destroy(): Promise<void> {
    if (this.started) await this.started.destroy();
    else await this.session?.close();
  }
}

/** Where PostgreSQL's binaries are in the packages of each layout. */
export function postgresBinOf(layout: "debian" | "rhel", version: number): string {
  return layout === "debian" ? `/usr/lib/postgresql/${version}/bin` : `/usr/pgsql-${version}/bin`;
}

/**
 * The hosts of a cluster file reached over one SSH session. `members` may still be filling (doctor
 * adds each host that answers); destroy() cleans up after whichever did.
 */
export class StartedSshBackend implements StartedBackend {
  readonly kind = "ssh" as const;
  readonly capabilities = CAPABILITIES.ssh;
  readonly stack: Stack;
  private destroyed = false;

  constructor(
    private readonly cluster: SshCluster,
    private readonly members: Map<string, SshMember>,
    private readonly session: SshSession,
  ) {
    this.stack = {
      name: `${cluster.name} (${cluster.layout})`,
      postgresBin: postgresBinOf(cluster.layout, cluster.postgresVersion),
      image: null,
    };
  }

  get harnessAddress(): string {
    return [...this.members.values()][0]?.harnessAddress ?? "127.0.0.1";
  }

  /** Only the harness's own address: nothing pgchaos writes into a user's configs depends on it. */
  get subnet(): string {
    return `${this.harnessAddress}/${this.harnessAddress.includes(":") ? 128 : 32}`;
  }

  member(name: string): SshMember {
    const member = this.members.get(name);
    if (!member) throw new Error(`no member ${name} in ${this.cluster.file}`);
    return member;
  }

  /**
   * Helpers and instruments still running and the files pgchaos installed (the agent's bundle, a
   * Node binary), every nft table of this run (a fault's heal normally removed it already),
   * pgchaos's directory when it holds nothing, then the SSH session. Idempotent; a host that cannot
   * be reached any more is skipped (its tables are named after the run, for a later heal to find).
   */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    const prefix = nftTable(`${this.session.runId}_`);
    await Promise.all(
      [...this.members.values()].map(async (m) => {
        await m.release().catch(() => undefined);
        await removeNftTables(m, prefix).catch(() => undefined);
        await m.exec(["rmdir", "--", m.dir], { timeoutMs: 15_000 }).catch(() => undefined);
      }),
    );
    await this.session.close();
  }
}

/**
 * Deletes every nft table on the host whose name starts with `prefix` (one run's, or any pgchaos
 * run's for a heal), in whichever family it was loaded; returns their names.
 */
export async function removeNftTables(host: StartedMember, prefix: string): Promise<string[]> {
  const script = `nft list tables 2>/dev/null | while read -r _ family t; do case "$t" in "$1"*) nft delete table "$family" "$t" && echo "$t";; esac; done; exit 0`;
  const removed = await host.exec(["sh", "-c", script, "sh", prefix], { timeoutMs: 15_000 });
  return removed.stdout.split("\n").filter(Boolean);
}
