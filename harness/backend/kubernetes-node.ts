import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { sleep } from "../common/clock.ts";
import { UsageError } from "../common/errors.ts";
import { type KubeApis, kubeApis } from "../common/kubernetes-api.ts";
import {
  type DockerContainer,
  type DockerImage,
  type Dockerode,
  dockerEngine,
  requireImage,
} from "./docker-engine.ts";
import { execIn } from "./docker-exec.ts";

/** The node image docker/kube-node/build.sh makes (issue 27, docs/kubernetes-node-lab.md). */
export const KUBE_NODE_IMAGE = process.env.PGCHAOS_KUBE_NODE_IMAGE ?? "pgchaos/kube-node:v1.35.4";
/** On the node container too, beside the run's label: what the lab labels its nodes with. */
export const KUBE_NODE_LABEL = "pgchaos.kube-node";

/**
 * The node's own Docker network. Its subnet holds the node's Pod CIDR (10.244.0.0/24, the node's
 * CNI config) and, above it, the node and the harness's gateway (10.244.255.0/24): the harness
 * then reaches Pods at their own addresses with no route of its own on the host (the node answers
 * ARP for them: proxy_arp on its eth0), and one CIDR covers Pods and harness alike in pg_hba.
 */
export const NODE_NETWORK = {
  subnet: "10.244.0.0/16",
  range: "10.244.255.0/24",
  gateway: "10.244.255.1",
} as const;

/** Kept across runs like the images themselves: `docker save` of 800 MB takes 7–13 s here. */
const ARCHIVE_DIR = "/var/cache/pgchaos/kube-images";

const READY_TIMEOUT_MS = 300_000;

/**
 * Host-wide kernel settings the kubelet writes (not namespaced), and two the node's networking
 * reads. The node shadows the first six with private copies; recorded anyway, and put back on
 * teardown if anything changed them (docs/kubernetes-node-lab.md, "What the node does on the host").
 */
const HOST_SYSCTLS = [
  "kernel/panic",
  "kernel/panic_on_oops",
  "vm/overcommit_memory",
  "vm/panic_on_oom",
  "kernel/keys/root_maxkeys",
  "kernel/keys/root_maxbytes",
  "net/ipv4/ip_forward",
  "net/bridge/bridge-nf-call-iptables",
];

export type Sysctls = Map<string, string>;

export function readSysctls(): Sysctls {
  const values: Sysctls = new Map();
  for (const key of HOST_SYSCTLS) {
    try {
      values.set(key, readFileSync(`/proc/sys/${key}`, "utf8").trim());
    } catch {
      // br_netfilter not loaded: nothing to keep.
    }
  }
  return values;
}

/** Puts back every recorded value that differs now; returns what it restored (`key before -> after`). */
export function restoreSysctls(recorded: Sysctls): string[] {
  const restored: string[] = [];
  for (const [key, value] of recorded) {
    let now: string;
    try {
      now = readFileSync(`/proc/sys/${key}`, "utf8").trim();
    } catch {
      continue;
    }
    if (now === value) continue;
    writeFileSync(`/proc/sys/${key}`, value);
    restored.push(`${key.replaceAll("/", ".")} ${now} -> ${value}`);
  }
  return restored;
}

/** A started node: its container, the API reached at its address, and the admin kubeconfig. */
export interface KubeNode {
  readonly name: string;
  readonly container: DockerContainer;
  readonly address: string;
  readonly kubeconfig: string;
  readonly apis: KubeApis;
  /** The workload image's id on the Docker engine (the node imported that very image). */
  readonly imageId: string;
  /** docker run → Node Ready, and → the workload image imported, in seconds. */
  readonly readyS: number;
  readonly imagesS: number;
}

/**
 * Starts one Kubernetes node as a Docker container, the way scripts/kube-node-lab.sh does, on a
 * network of the run's own; everything carries the run's label, so `removeDockerRun` (and
 * `pgchaos cleanup` after a crash) removes node, Pods and network together.
 */
export async function startKubeNode(
  runId: string,
  workloadImage: string,
  labels: Record<string, string>,
  say: (line: string) => void = () => {},
): Promise<KubeNode> {
  const engine = await dockerEngine();
  const docker = engine.container.dockerode;
  const nodeImage = await requireImage(engine, KUBE_NODE_IMAGE).catch((error: unknown) => {
    if (error instanceof UsageError)
      throw new UsageError(`image ${KUBE_NODE_IMAGE} is not built — fix: bash docker/kube-node/build.sh`);
    throw error;
  });
  const image = await requireImage(engine, workloadImage);
  const archive = await imageArchive(docker, image);
  const name = `pgchaos-${runId}-kube-node`;
  const network = await docker
    .createNetwork({
      Name: `pgchaos-${runId}`,
      Labels: labels,
      CheckDuplicate: true,
      IPAM: {
        Driver: "default",
        Config: [{ Subnet: NODE_NETWORK.subnet, IPRange: NODE_NETWORK.range, Gateway: NODE_NETWORK.gateway }],
      },
    })
    .catch((error: unknown) => {
      // The node's Pod CIDR is fixed (its CNI config): one kubernetes run at a time on this engine.
      if (/overlap/i.test(String(error)))
        throw new UsageError(
          `${NODE_NETWORK.subnet} is taken on the Docker engine (another kubernetes run, or a network of someone else's): one kubernetes run at a time`,
        );
      throw error;
    });
  const started = Date.now();
  // The lab's flags (docs/kubernetes-node-lab.md, pitfalls 1–4, 8): not --privileged, which this
  // host's capability bounding set (no CAP_SYS_RESOURCE) refuses.
  const container = await docker.createContainer({
    name,
    Hostname: name,
    Image: nodeImage.name,
    Labels: { ...labels, [KUBE_NODE_LABEL]: "1", [`${KUBE_NODE_LABEL}.run`]: runId },
    Env: ["PGCHAOS_KUBE_HOST_SYSCTLS=0"],
    Volumes: { "/var": {} },
    HostConfig: {
      NetworkMode: network.id,
      CapAdd: ["ALL"],
      CapDrop: ["SYS_RESOURCE"],
      SecurityOpt: ["seccomp=unconfined", "apparmor=unconfined"],
      // The CLI's --security-opt systempaths=unconfined, as the API spells it: a writable /proc/sys.
      MaskedPaths: [],
      ReadonlyPaths: [],
      CgroupnsMode: "private",
      Devices: [{ PathOnHost: "/dev/kmsg", PathInContainer: "/dev/kmsg", CgroupPermissions: "rwm" }],
      DeviceCgroupRules: ["a *:* rwm"],
      Tmpfs: { "/run": "rw,exec,nosuid,size=256m", "/tmp": "rw,exec,nosuid,size=256m" },
      Binds: [`${dirname(archive)}:/pgchaos/images:ro`],
    },
  } as Parameters<Dockerode["createContainer"]>[0]);
  await container.start();
  const info = await container.inspect();
  const address = Object.values(info.NetworkSettings.Networks)[0]?.IPAddress;
  if (!address) throw new Error(`node ${name} has no address on its network`);
  // The host ARPs for Pod addresses on the shared subnet; the node answers for those it routes to cni0.
  const arp = await execIn(container, ["sysctl", "-qw", "net.ipv4.conf.eth0.proxy_arp=1"]);
  if (arp.code !== 0) throw new Error(`proxy_arp on ${name}: ${arp.stderr.trim()}`);
  const kubeconfig = await nodeKubeconfig(container, address, name, started);
  const apis = await kubeApis(kubeconfig, 10_000);
  await waitFor(container, name, started, async () => {
    const node = await apis.core.readNode({ name }).catch(() => null);
    return node?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
  });
  const readyS = (Date.now() - started) / 1000;
  say(`kubernetes node ${name} Ready in ${readyS.toFixed(1)} s`);
  await waitFor(container, name, started, async () => {
    const state = await execIn(container, ["cat", "/run/pgchaos-kube/images"]);
    if (state.stdout.startsWith("failed"))
      throw new Error(`node ${name}: image import ${state.stdout.trim()}`);
    return state.stdout.trim() === "imported";
  });
  const imagesS = (Date.now() - started) / 1000;
  say(`${image.name} imported into the node's containerd ${imagesS.toFixed(1)} s after docker run`);
  return { name, container, address, kubeconfig, apis, imageId: image.id, readyS, imagesS };
}

/** The node's admin kubeconfig, made to dial the node's address (its certificate names it) with the CA inline. */
async function nodeKubeconfig(
  container: DockerContainer,
  address: string,
  name: string,
  started: number,
): Promise<string> {
  let ca = "";
  let token = "";
  await waitFor(container, name, started, async () => {
    const read = await execIn(container, [
      "sh",
      "-c",
      "cat /etc/kubernetes/pki/ca.crt && sed -n 's/.*token: \"\\(.*\\)\".*/\\1/p' /etc/kubernetes/admin.conf",
    ]);
    const match = /(-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----)\s*\n(\S+)\s*$/.exec(
      read.stdout,
    );
    if (read.code !== 0 || !match?.[1] || !match[2]) return false;
    ca = match[1];
    token = match[2];
    return true;
  });
  return `apiVersion: v1
kind: Config
clusters:
- name: pgchaos
  cluster: {server: "https://${address}:6443", certificate-authority-data: "${Buffer.from(`${ca}\n`).toString("base64")}"}
users:
- name: admin
  user: {token: "${token}"}
contexts:
- name: pgchaos
  context: {cluster: pgchaos, user: admin}
current-context: pgchaos
`;
}

/** Polls until `ready` says yes; fails at once when the node's init failed or its container exited. */
async function waitFor(
  container: DockerContainer,
  name: string,
  started: number,
  ready: () => Promise<boolean>,
): Promise<void> {
  while (Date.now() - started < READY_TIMEOUT_MS) {
    const state = (await container.inspect()).State;
    if (!state.Running) throw new Error(`node ${name} exited (${state.ExitCode}): docker logs ${name}`);
    const phase = await execIn(container, ["cat", "/run/pgchaos-kube/phase"]);
    if (phase.stdout.startsWith("failed")) throw new Error(`node ${name}: ${phase.stdout.trim()}`);
    if (await ready()) return;
    await sleep(500);
  }
  throw new Error(`node ${name} not ready after ${READY_TIMEOUT_MS / 1000} s`);
}

/**
 * `docker save` of the workload image, once per image id, in a directory of its own (the node
 * imports every archive in the directory it is given). Written aside and renamed: a crash
 * mid-save leaves no half archive for the next run to import.
 */
async function imageArchive(docker: Dockerode, image: DockerImage): Promise<string> {
  const dir = join(ARCHIVE_DIR, image.id.replace(/^sha256:/, "").slice(0, 16));
  const archive = join(dir, "image.tar");
  if (existsSync(archive)) return archive;
  mkdirSync(dir, { recursive: true });
  const partial = join(ARCHIVE_DIR, `.${process.pid}-${Date.now()}.tar.partial`);
  try {
    await pipeline(await docker.getImage(image.name).get(), createWriteStream(partial));
    renameSync(partial, archive);
  } finally {
    rmSync(partial, { force: true });
  }
  return archive;
}
