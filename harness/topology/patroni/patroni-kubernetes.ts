import { sleep } from "../../common/clock.ts";
import { type KubeApis, apiStatus, kubeApis } from "../../common/kubernetes-api.ts";
import type { HaEvent } from "../topology.ts";
import { LeaderLockTracker, leaderRecord } from "./leader-lock.ts";
import type { PatroniMember, PatroniSource } from "./patroni-client.ts";

/**
 * Where a Patroni cluster lives on a Kubernetes API: all this client needs, so it reads a real
 * Crunchy PGO cluster (attach) exactly as the one pgchaos deploys.
 */
export interface PatroniKubernetesTarget {
  /** A kubeconfig (YAML); its current context is used. */
  kubeconfig: string;
  namespace: string;
  /** Patroni's scope (PGO: `<cluster>-ha`): the leader Endpoints' name, the prefix of the others. */
  scope: string;
  /** Patroni's kubernetes.labels (PGO: postgres-operator.crunchydata.com/cluster: <cluster>). */
  labels: Record<string, string>;
  /** Patroni's kubernetes.scope_label, whose value is the scope (PGO: postgres-operator.crunchydata.com/patroni). */
  scopeLabel: string;
}

/** A member's `status` annotation on its Pod, as Patroni writes it (ha.py touch_member). */
interface PodStatus {
  state?: string;
  role?: string;
  timeline?: number;
  xlog_location?: number;
}

type Annotations = Record<string, string>;

/** One reading of the cluster's objects: Endpoints by name, Pods' status annotations by name. */
export interface PatroniObjects {
  endpoints: Map<string, Annotations>;
  pods: Map<string, Annotations>;
}

/**
 * /cluster's member list from the objects, as Patroni's own api.py cluster_as_json builds it: the
 * leader is whoever holds a valid lock, sync_standby whom the `-sync` Endpoints names, lag the
 * leader's optime minus the member's xlog_location ("unknown" without one).
 */
export function clusterMembers(
  objects: PatroniObjects,
  scope: string,
  validLeader: string | null,
): PatroniMember[] {
  const leaderAnnotations = objects.endpoints.get(scope) ?? {};
  const optime = Number(leaderAnnotations.optime ?? 0) || 0;
  const sync = objects.endpoints.get(`${scope}-sync`) ?? {};
  const syncStandbys = (sync.sync_standby ?? "")
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);
  return [...objects.pods].map(([name, annotations]): PatroniMember => {
    // A Pod Patroni has not touched yet is a member without state, as Member.from_node reads it.
    let status: PodStatus = {};
    try {
      status = (JSON.parse(annotations.status ?? "") as PodStatus | null) ?? {};
    } catch {
      // no status yet
    }
    const role = name === validLeader ? "leader" : syncStandbys.includes(name) ? "sync_standby" : "replica";
    const member: PatroniMember = { name, role, state: status.state ?? "" };
    if (typeof status.timeline === "number") member.timeline = status.timeline;
    if (name !== validLeader) {
      const lsn = status.xlog_location;
      member.lag = typeof lsn !== "number" ? "unknown" : Math.max(optime - lsn, 0);
    }
    return member;
  });
}

const WATCH_RETRY_MS = 500;
/** How often a lapse or an expiry of the lock is looked for between watch events. */
const TICK_MS = 250;

/**
 * Patroni's kubernetes DCS (use_endpoints: true) read through @kubernetes/client-node: the leader
 * lock on the `<scope>` Endpoints, the dynamic config and timeline history on `<scope>-config`,
 * synchronous standbys on `<scope>-sync`, each member's state on its Pod (`status` annotation), and
 * a switchover requested the way patronictl falls back to when the REST API is out of reach: the
 * `<scope>-failover` Endpoints' annotations (dcs/kubernetes.py manual_failover).
 */
export class PatroniKubernetes implements PatroniSource {
  readonly describe = "Kubernetes API";
  private readonly selector: string;
  /** The leader record as last read, and when (harness wall time) it was first seen as such. */
  private observed: { record: string; sinceMs: number } | null = null;
  private readonly lock = new LeaderLockTracker();
  private watching: { stoppedMs: number | null } | null = null;

  private constructor(
    readonly target: PatroniKubernetesTarget,
    private readonly api: KubeApis,
  ) {
    this.selector = Object.entries({ ...target.labels, [target.scopeLabel]: target.scope })
      .map(([key, value]) => `${key}=${value}`)
      .join(",");
  }

  static async connect(target: PatroniKubernetesTarget): Promise<PatroniKubernetes> {
    return new PatroniKubernetes(target, await kubeApis(target.kubeconfig));
  }

  /** Every Endpoints and Pod of the cluster, in two requests; undefined when the API did not answer. */
  async objects(): Promise<PatroniObjects | undefined> {
    const { namespace } = this.target;
    try {
      const [endpoints, pods] = await Promise.all([
        this.api.core.listNamespacedEndpoints({ namespace, labelSelector: this.selector }),
        this.api.core.listNamespacedPod({ namespace, labelSelector: this.selector }),
      ]);
      const byName = (items: { metadata?: { name?: string; annotations?: Annotations } }[]) =>
        new Map(items.map((item) => [item.metadata?.name ?? "", item.metadata?.annotations ?? {}]));
      return { endpoints: byName(endpoints.items), pods: byName(pods.items) };
    } catch {
      return undefined;
    }
  }

  /**
   * Who holds a valid lock: the leader annotation, if its record changed within ttl of now by this
   * client's sightings — Patroni's own rule (kubernetes.py: _leader_observed_time + ttl), so a dead
   * leader's name stops counting when the members stop counting it.
   */
  private validLeader(annotations: Annotations | undefined): string | null {
    const record = leaderRecord(annotations);
    const now = Date.now();
    const key = JSON.stringify(record);
    if (this.observed?.record !== key) this.observed = { record: key, sinceMs: now };
    if (!record?.leader) return null;
    const ttlS = Number(record.ttl) || 30;
    return now - this.observed.sinceMs <= ttlS * 1000 ? record.leader : null;
  }

  async cluster(): Promise<PatroniMember[] | undefined> {
    const objects = await this.objects();
    if (!objects) return undefined;
    const { scope } = this.target;
    return clusterMembers(objects, scope, this.validLeader(objects.endpoints.get(scope)));
  }

  async history(): Promise<unknown[][] | undefined> {
    const objects = await this.objects();
    const text = objects?.endpoints.get(`${this.target.scope}-config`)?.history;
    if (!objects) return undefined;
    if (!text) return [];
    try {
      const parsed: unknown = JSON.parse(text);
      return Array.isArray(parsed) ? parsed.filter((entry): entry is unknown[] => Array.isArray(entry)) : [];
    } catch {
      return [];
    }
  }

  /**
   * What patronictl writes when it cannot reach the leader's REST API: `leader` (and `member`, the
   * candidate) on `<scope>-failover`. The leader's next HA cycle demotes it and hands over; Patroni
   * then clears the annotations. Done once the lock is someone else's (the candidate's, if named)
   * and that member runs as leader; an error once Patroni dropped the request without a change.
   */
  async switchover(leader: string, candidate: string | null, timeoutMs = 60_000): Promise<void> {
    const { namespace, scope } = this.target;
    const name = `${scope}-failover`;
    const annotations = { leader, member: candidate, scheduled_at: null };
    try {
      await this.api.core.patchNamespacedEndpoints(
        { name, namespace, body: { metadata: { annotations } } },
        this.api.mergePatch,
      );
    } catch (error) {
      if (apiStatus(error) !== 404) throw new Error(`switchover: patch ${name}: ${(error as Error).message}`);
      await this.api.core.createNamespacedEndpoints({
        namespace,
        body: {
          metadata: {
            name,
            labels: { ...this.target.labels, [this.target.scopeLabel]: scope },
            annotations: candidate ? { leader, member: candidate } : { leader },
          },
        },
      });
    }
    const deadline = Date.now() + timeoutMs;
    let requested = true;
    while (Date.now() < deadline) {
      await sleep(250);
      const members = await this.cluster();
      const now = members?.find((m) => m.role === "leader" && m.state === "running")?.name;
      if (now && now !== leader && (candidate === null || now === candidate)) return;
      const objects = await this.objects();
      const pending = objects?.endpoints.get(name)?.leader;
      // Patroni removes the request once it acted on it, or refused it (no healthy candidate).
      if (objects && !pending && requested && now === leader) {
        throw new Error(`switchover: Patroni dropped the request on ${name}; ${leader} still leads`);
      }
      if (objects && !pending) requested = false;
    }
    throw new Error(`switchover: ${leader} still leads ${timeoutMs / 1000} s after the request on ${name}`);
  }

  /**
   * Watches the cluster's Endpoints (list, then watch from its resourceVersion; again after any
   * break, as client-go's reflector does): each sighting of the leader record feeds the lock
   * tracker, each of the config its ttl and loop_wait.
   */
  watch(): () => Promise<void> {
    const state = { stoppedMs: null as number | null };
    this.watching = state;
    const { namespace } = this.target;
    const path = `/api/v1/namespaces/${namespace}/endpoints`;
    let abort: AbortController | undefined;
    let retry: NodeJS.Timeout | undefined;
    const see = (name: string | undefined, annotations: Annotations | null) => {
      const now = Date.now();
      if (name === `${this.target.scope}-config` && annotations?.config) {
        try {
          this.lock.configure(JSON.parse(annotations.config) as Record<string, unknown>);
        } catch {
          // a config Patroni could not read either
        }
      }
      if (name === this.target.scope) this.lock.observe(now, annotations ? leaderRecord(annotations) : null);
    };
    const run = async (): Promise<void> => {
      if (state.stoppedMs !== null) return;
      try {
        const list = await this.api.core.listNamespacedEndpoints({ namespace, labelSelector: this.selector });
        for (const item of list.items) see(item.metadata?.name, item.metadata?.annotations ?? {});
        if (!list.items.some((item) => item.metadata?.name === this.target.scope))
          see(this.target.scope, null);
        if (state.stoppedMs !== null) return;
        abort = await this.api.watch.watch(
          path,
          {
            labelSelector: this.selector,
            resourceVersion: list.metadata?.resourceVersion,
            allowWatchBookmarks: false,
            // The server ends the watch after this; a fresh list then catches anything missed.
            timeoutSeconds: 60,
          },
          (type, object: { metadata?: { name?: string; annotations?: Annotations } }) => {
            if (type === "ADDED" || type === "MODIFIED")
              see(object.metadata?.name, object.metadata?.annotations ?? {});
            else if (type === "DELETED") see(object.metadata?.name, null);
          },
          () => again(),
        );
      } catch {
        again();
      }
    };
    const again = () => {
      if (state.stoppedMs === null) retry = setTimeout(() => void run(), WATCH_RETRY_MS);
    };
    const ticker = setInterval(() => this.lock.tick(Date.now()), TICK_MS);
    ticker.unref();
    void run();
    return async () => {
      state.stoppedMs = Date.now();
      clearInterval(ticker);
      clearTimeout(retry);
      abort?.abort();
    };
  }

  /** The lock's acquisitions, releases, lapses and expiries the watch saw, with a closing count. */
  events(): HaEvent[] {
    const end = this.watching?.stoppedMs ?? null;
    return this.lock.events(end);
  }
}
