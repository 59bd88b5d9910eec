import type { V1Pod } from "@kubernetes/client-node";
import { sleep } from "../common/clock.ts";
import { UsageError } from "../common/errors.ts";
import type { Stack } from "../model/record.ts";
import { type Backend, CAPABILITIES, type MemberSpec, type StartedBackend } from "./backend.ts";
import {
  HARNESS_PID_LABEL,
  HARNESS_STARTED_LABEL,
  MEMBER_LABEL,
  RUN_LABEL,
  removeDockerRun,
} from "./docker-engine.ts";
import { MEMBER_CONTAINER, type PodRef, podExec } from "./kubernetes-exec.ts";
import { KubernetesMember } from "./kubernetes-member.ts";
import {
  type KubeNode,
  NODE_NETWORK,
  type Sysctls,
  readSysctls,
  restoreSysctls,
  startKubeNode,
} from "./kubernetes-node.ts";
import { processStartTime } from "./state.ts";

/** What Kubernetes accepts in a Pod's name and a namespace's (a DNS label). */
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

const POD_READY_TIMEOUT_MS = 180_000;

export interface KubernetesBackendOptions {
  runId: string;
  /** The members' image, on the Docker engine; imported into the node's containerd, never pulled. */
  image: string;
  harnessPid?: number;
  /** Progress lines (the node's start to Ready, the image import), for the run's output and the bench. */
  say?: (line: string) => void;
}

/** Figures of the node a run started, for the run's own log and the bench. */
export interface KubeNodeFigures {
  node: string;
  ready_s: number;
  images_s: number;
  pods_ready_s: number;
}

/**
 * Members as Pods on a Kubernetes node of the run's own: a node container started per run (in
 * kind's model, docker/kube-node), removed with everything in it at the end. Each member is a bare
 * Pod with a stable name in the run's namespace: the faults this slice maps (signals, files,
 * processes) act inside the Pod, so a controller would add nothing yet, and a StatefulSet's
 * recreated Pod would come back with a new address while peers' configs hold the old one. The
 * Pod-level faults (delete, scale to 0) bring StatefulSets in with them.
 */
export class KubernetesBackend implements Backend {
  readonly kind = "kubernetes";
  readonly capabilities = CAPABILITIES.kubernetes;
  private destroying = false;
  private sysctls: Sysctls | null = null;

  constructor(private readonly options: KubernetesBackendOptions) {
    if (!DNS_LABEL.test(`pgchaos-${options.runId}`))
      throw new UsageError(`run id ${options.runId} is not valid in a namespace name`);
  }

  async start(specs: MemberSpec[]): Promise<StartedBackend> {
    for (const spec of specs) {
      if (!DNS_LABEL.test(spec.name))
        throw new UsageError(`member name ${spec.name} is not valid as a Pod's name (a DNS label)`);
    }
    const { runId } = this.options;
    const labels = {
      [RUN_LABEL]: runId,
      [HARNESS_PID_LABEL]: String(this.options.harnessPid ?? process.pid),
      ...(this.options.harnessPid === undefined
        ? { [HARNESS_STARTED_LABEL]: processStartTime(process.pid) ?? "" }
        : {}),
    };
    this.sysctls = readSysctls();
    try {
      const node = await startKubeNode(runId, this.options.image, labels, this.options.say);
      if (this.destroying) throw new Error("destroyed while starting");
      const started = Date.now();
      const namespace = `pgchaos-${runId}`;
      await node.apis.core.createNamespace({
        body: { metadata: { name: namespace, labels: { [RUN_LABEL]: runId } } },
      });
      await Promise.all(specs.map((spec) => createPod(node, namespace, spec, this.options.image, runId)));
      const pods = await waitForPods(node, namespace, specs);
      if (this.destroying) throw new Error("destroyed while starting");
      const members = new Map<string, KubernetesMember>();
      for (const spec of specs) {
        const pod = pods.get(spec.name) as V1Pod;
        members.set(spec.name, await prepareMember(node, namespace, spec, pod));
      }
      const figures: KubeNodeFigures = {
        node: node.name,
        ready_s: round(node.readyS),
        images_s: round(node.imagesS),
        pods_ready_s: round((Date.now() - started) / 1000),
      };
      const first = [...members.values()][0];
      if (!first) throw new UsageError("a Kubernetes run needs at least one member");
      return new StartedKubernetesBackend(
        runId,
        await stackOf(this.options.image, node.imageId, first),
        members,
        figures,
        () => this.destroy(),
      );
    } catch (error) {
      await this.destroy().catch(() => {});
      throw error;
    }
  }

  private removal: Promise<void> | undefined;

  /**
   * By label, like the Docker backend's: the node container (and with it every Pod, their cgroups
   * and mounts, the node's volume) and the run's network. Then the host's sysctls as recorded.
   */
  destroy(): Promise<void> {
    this.destroying = true;
    this.removal ??= removeDockerRun(this.options.runId)
      .then(() => {
        if (!this.sysctls) return;
        for (const line of restoreSysctls(this.sysctls)) console.error(`pgchaos: restored ${line}`);
      })
      .finally(() => {
        this.removal = undefined;
      });
    return this.removal;
  }
}

class StartedKubernetesBackend implements StartedBackend {
  readonly kind = "kubernetes";
  readonly capabilities = CAPABILITIES.kubernetes;
  /** Pods and the harness's gateway both: pg_hba's one CIDR covers peers and the harness. */
  readonly subnet = NODE_NETWORK.subnet;
  /** The run network's gateway on this machine: where the harness's connections to Pods come from. */
  readonly harnessAddress = NODE_NETWORK.gateway;

  constructor(
    private readonly runId: string,
    readonly stack: Stack,
    private readonly members: Map<string, KubernetesMember>,
    readonly figures: KubeNodeFigures,
    private readonly remove: () => Promise<void>,
  ) {}

  member(name: string): KubernetesMember {
    const member = this.members.get(name);
    if (!member) throw new Error(`no member ${name} in run ${this.runId}`);
    return member;
  }

  destroy(): Promise<void> {
    return this.remove();
  }
}

function round(seconds: number): number {
  return Number(seconds.toFixed(2));
}

/**
 * One Pod per member from the stack's image, pull-never. The Pod shares a PID namespace, so the
 * sandbox's pause is PID 1 and reaps orphans; root with NET_ADMIN as the Docker members (nftables
 * in the Pod's own netns); the member's directory on an emptyDir (the node's ext4 volume, not the
 * container's overlay). restartPolicy Never: a keeper that died must not bring back an empty Pod
 * under the same address while the harness thinks its processes run.
 */
async function createPod(
  node: KubeNode,
  namespace: string,
  spec: MemberSpec,
  image: string,
  runId: string,
): Promise<void> {
  const body: V1Pod = {
    metadata: { name: spec.name, namespace, labels: { [RUN_LABEL]: runId, [MEMBER_LABEL]: spec.name } },
    spec: {
      hostname: spec.name,
      shareProcessNamespace: true,
      restartPolicy: "Never",
      terminationGracePeriodSeconds: 1,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      containers: [
        {
          name: MEMBER_CONTAINER,
          image,
          imagePullPolicy: "Never",
          command: ["sleep", "infinity"],
          securityContext: { runAsUser: 0, capabilities: { add: ["NET_ADMIN"] } },
          ports: spec.ports.map((port) => ({ containerPort: port })),
          volumeMounts: [{ name: "data", mountPath: "/var/lib/pgchaos" }],
        },
      ],
      volumes: [{ name: "data", emptyDir: {} }],
    },
  };
  // A new namespace's default ServiceAccount comes a moment after it: until then admission refuses Pods.
  for (let attempt = 1; ; attempt++) {
    try {
      await node.apis.core.createNamespacedPod({ namespace, body });
      return;
    } catch (error) {
      if (attempt >= 40 || !/serviceaccount|service account/i.test(String(error))) throw error;
      await sleep(250);
    }
  }
}

async function waitForPods(
  node: KubeNode,
  namespace: string,
  specs: MemberSpec[],
): Promise<Map<string, V1Pod>> {
  const deadline = Date.now() + POD_READY_TIMEOUT_MS;
  for (;;) {
    const list = await node.apis.core.listNamespacedPod({ namespace });
    const pods = new Map(list.items.map((pod) => [pod.metadata?.name ?? "", pod]));
    const waiting: string[] = [];
    for (const spec of specs) {
      const pod = pods.get(spec.name);
      const phase = pod?.status?.phase;
      if (phase === "Failed" || phase === "Succeeded")
        throw new Error(`pod ${spec.name} ended (${phase}) while starting: ${pod?.status?.message ?? ""}`);
      const waitingState = pod?.status?.containerStatuses?.[0]?.state?.waiting;
      if (
        waitingState?.reason &&
        /ErrImageNeverPull|CreateContainerError|InvalidImageName/.test(waitingState.reason)
      )
        throw new Error(`pod ${spec.name}: ${waitingState.reason}: ${waitingState.message ?? ""}`);
      const ready = pod?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
      if (!ready || !pod?.status?.podIP) waiting.push(spec.name);
    }
    if (waiting.length === 0) return pods;
    if (Date.now() > deadline)
      throw new Error(`pods not ready after ${POD_READY_TIMEOUT_MS / 1000} s: ${waiting.join(", ")}`);
    await sleep(300);
  }
}

async function prepareMember(
  node: KubeNode,
  namespace: string,
  spec: MemberSpec,
  pod: V1Pod,
): Promise<KubernetesMember> {
  const dir = `/var/lib/pgchaos/${spec.name}`;
  const ref: PodRef = { config: node.apis.config, namespace, pod: spec.name };
  const prepared = await podExec(ref, [
    "sh",
    "-c",
    'install -d -o postgres -g postgres -m 0700 "$1" && exec ps -eo pid=,args=',
    "sh",
    dir,
  ]);
  if (prepared.code !== 0 && /invalid user/.test(prepared.stderr))
    throw new UsageError("the members' image has no user postgres (members run PostgreSQL as postgres)");
  if (prepared.code !== 0)
    throw new Error(
      `cannot prepare ${dir} on ${spec.name} (exit ${prepared.code}): ${prepared.stderr.trim()}`,
    );
  const keeper = /^\s*(\d+)\s+sleep infinity\s*$/m.exec(prepared.stdout)?.[1];
  if (!keeper) throw new Error(`no keeper process in pod ${spec.name}: ${prepared.stdout.trim()}`);
  return new KubernetesMember(spec.name, pod.status?.podIP as string, dir, ref, Number(keeper));
}

/** The image's newest PostgreSQL, and its stack label (docker/build.sh sets it). */
async function stackOf(image: string, id: string, member: KubernetesMember): Promise<Stack> {
  const listed = await member.exec(["sh", "-c", "ls -d /usr/lib/postgresql/*/bin"]);
  const newest = listed.stdout
    .split("\n")
    .map((line) => /^\/usr\/lib\/postgresql\/(\d+)\/bin$/.exec(line.trim()))
    .filter((match) => match !== null)
    .sort((a, b) => Number(b[1]) - Number(a[1]))[0];
  if (!newest) throw new UsageError(`image ${image} has no PostgreSQL (no /usr/lib/postgresql/*/bin)`);
  const stack = /^pgchaos\/node:(.+)$/.exec(image)?.[1] ?? image;
  return { name: stack, postgresBin: newest[0], image: { name: image, id } };
}
