import { networkInterfaces } from "node:os";
import {
  type ContainerRuntimeClient,
  GenericContainer,
  type StartedTestContainer,
  Wait,
} from "testcontainers";
import { UsageError } from "../common/errors.ts";
import type { Stack } from "../model/record.ts";
import {
  type Backend,
  CAPABILITIES,
  INSTRUMENT_API_PORTS,
  type MemberSpec,
  type StartedBackend,
} from "./backend.ts";
import {
  type DockerImage,
  HARNESS_PID_LABEL,
  HARNESS_STARTED_LABEL,
  MEMBER_LABEL,
  RUN_LABEL,
  dockerEngine,
  removeDockerRun,
  requireImage,
} from "./docker-engine.ts";
import { execIn } from "./docker-exec.ts";
import { DockerMember, mappedPorts } from "./docker-member.ts";
import { processStartTime } from "./state.ts";

export {
  type DockerRun,
  type DockerStatus,
  dockerStatus,
  listDockerRuns,
  removeDockerRun,
} from "./docker-engine.ts";

/** What Docker accepts in container and network names (members' names are part of them). */
const NAME = /^[a-z0-9][a-z0-9_.-]*$/i;

export interface DockerBackendOptions {
  runId: string;
  /** An image on the engine (docker/build.sh makes pgchaos/node:<stack>); never pulled. */
  image: string;
  /** Recorded on every container and network, so `pgchaos cleanup` can tell a dead run's leftovers. */
  harnessPid?: number;
  /**
   * A size-limited filesystem for each member's directory (disk-full): a tmpfs of that many bytes,
   * which needs no privilege — and which fsfreeze cannot freeze (io-freeze stays local).
   */
  diskBytes?: number | null;
}

/**
 * Members as containers on one user-defined network of their own, each a host: docker-init as PID
 * 1, `sleep infinity` to keep it up, and the HA software started later through exec. Killing any
 * of it never restarts the container, so addresses and mapped ports stay put.
 */
export class DockerBackend implements Backend {
  readonly kind = "docker";
  readonly capabilities = CAPABILITIES.docker;
  private destroying = false;

  constructor(private readonly options: DockerBackendOptions) {
    if (!NAME.test(options.runId)) throw new UsageError(`run id ${options.runId} is not a valid Docker name`);
  }

  async start(specs: MemberSpec[]): Promise<StartedBackend> {
    for (const spec of specs) {
      if (!NAME.test(spec.name))
        throw new UsageError(`member name ${spec.name} is not valid in a Docker name`);
    }
    const engine = await dockerEngine();
    const image = await requireImage(engine, this.options.image);
    const { runId } = this.options;
    const labels = {
      [RUN_LABEL]: runId,
      [HARNESS_PID_LABEL]: String(this.options.harnessPid ?? process.pid),
      // A made-up harness PID (tests) has no start time: cleanup then judges it by its command line.
      ...(this.options.harnessPid === undefined
        ? { [HARNESS_STARTED_LABEL]: processStartTime(process.pid) ?? "" }
        : {}),
    };
    try {
      const network = await createNetwork(engine, `pgchaos-${runId}`, labels);
      // Asked when first dialled: the bridge gets its address only once a container joins.
      let routed: boolean | undefined;
      const routedHere = () => {
        routed ??= isAddressOfThisMachine(network.gateway);
        return routed;
      };
      // Settled, not all: a failed member must not leave others starting after the cleanup below.
      const started = await Promise.allSettled(
        specs.map((spec) =>
          startMember(
            engine,
            spec,
            image,
            network.name,
            { ...labels, [MEMBER_LABEL]: spec.name },
            this.options.diskBytes ?? null,
            routedHere,
          ),
        ),
      );
      const failed = started.find((result) => result.status === "rejected");
      if (failed) throw failed.reason;
      if (this.destroying) throw new Error("destroyed while starting");
      const members = new Map(
        started.map((result) => {
          const member = (result as PromiseFulfilledResult<DockerMember>).value;
          return [member.name, member];
        }),
      );
      return new StartedDockerBackend(
        runId,
        await stackOf(image, [...members.values()][0]),
        network,
        members,
      );
    } catch (error) {
      await removeDockerRun(runId).catch(() => {});
      throw error;
    }
  }

  destroy(): Promise<void> {
    this.destroying = true;
    return removeDockerRun(this.options.runId);
  }
}

class StartedDockerBackend implements StartedBackend {
  readonly kind = "docker";
  readonly capabilities = CAPABILITIES.docker;
  readonly subnet: string;
  /**
   * The network's gateway: on a local engine the harness dials members' addresses over the
   * network's bridge, whose address on this machine is the gateway (and docker-proxy, for a mapped
   * port, connects on from there too: a listener in a member sees 172.x.0.1 either way). A remote
   * DOCKER_HOST dialled by its own address would show the harness's address instead.
   */
  readonly harnessAddress: string;
  private removal: Promise<void> | undefined;

  constructor(
    private readonly runId: string,
    readonly stack: Stack,
    network: RunNetwork,
    private readonly members: Map<string, DockerMember>,
  ) {
    this.subnet = network.subnet;
    this.harnessAddress = network.gateway;
  }

  member(name: string): DockerMember {
    const member = this.members.get(name);
    if (!member) throw new Error(`no member ${name} in run ${this.runId}`);
    return member;
  }

  /** By label, not by the objects held here: it also finds what a half-finished start left. */
  destroy(): Promise<void> {
    this.removal ??= removeDockerRun(this.runId).finally(() => {
      this.removal = undefined;
    });
    return this.removal;
  }
}

interface RunNetwork {
  id: string;
  name: string;
  subnet: string;
  gateway: string;
}

/**
 * Docker reconnects a container with its old address only on a network whose subnet was given
 * at creation ("user specified IP address is supported only when connecting to networks with user
 * configured subnets"). So Docker picks a free subnet first (it knows the host's routes and its
 * other networks), and the run's network is created again with that subnet pinned.
 */
async function createNetwork(
  engine: ContainerRuntimeClient,
  name: string,
  labels: Record<string, string>,
): Promise<RunNetwork> {
  const docker = engine.container.dockerode;
  for (let attempt = 1; ; attempt++) {
    const probe = await docker.createNetwork({ Name: name, Labels: labels, CheckDuplicate: true });
    const picked = (await probe.inspect()).IPAM?.Config?.[0];
    await probe.remove();
    if (!picked?.Subnet || !picked.Gateway) throw new Error(`Docker gave network ${name} no IPv4 subnet`);
    try {
      const network = await docker.createNetwork({
        Name: name,
        Labels: labels,
        CheckDuplicate: true,
        IPAM: { Driver: "default", Config: [{ Subnet: picked.Subnet, Gateway: picked.Gateway }] },
      });
      return { id: network.id, name, subnet: picked.Subnet, gateway: picked.Gateway };
    } catch (error) {
      // Another run took the subnet in between.
      if (attempt >= 3 || !/overlap/i.test(String(error))) throw error;
    }
  }
}

/** The engine's bridge for a network has the network's gateway as its address on the engine's host. */
function isAddressOfThisMachine(address: string): boolean {
  return Object.values(networkInterfaces()).some((addresses) =>
    addresses?.some((assigned) => assigned.address === address),
  );
}

/** docker-init as PID 1 reaps the orphans HA software leaves (daemonised postmasters, agents' children). */
class MemberContainer extends GenericContainer {
  withInit(): this {
    this.hostConfig.Init = true;
    return this;
  }
}

async function startMember(
  engine: ContainerRuntimeClient,
  spec: MemberSpec,
  image: DockerImage,
  network: string,
  labels: Record<string, string>,
  diskBytes: number | null,
  routedHere: () => boolean,
): Promise<DockerMember> {
  const dir = `/var/lib/pgchaos/${spec.name}`;
  const started = await startContainer(engine, { spec, image, network, labels, diskBytes, dir });
  const handle = engine.container.dockerode.getContainer(started.getId());
  const prepared = await execIn(handle, [
    "sh",
    "-c",
    'install -d -o postgres -g postgres -m 0700 "$1" && exec ps -o pid=,args= --ppid 1',
    "sh",
    dir,
  ]);
  if (prepared.code !== 0 && /invalid user/.test(prepared.stderr)) {
    throw new UsageError(`image ${image.name} has no user postgres (members run PostgreSQL as postgres)`);
  }
  if (prepared.code !== 0)
    throw new Error(`cannot prepare ${dir} on ${spec.name}: ${prepared.stderr.trim()}`);
  const keeper = /^\s*(\d+)\s+sleep infinity\s*$/m.exec(prepared.stdout)?.[1];
  if (!keeper) throw new Error(`no keeper process on ${spec.name}: ${prepared.stdout.trim()}`);
  const networkSettings = (await handle.inspect()).NetworkSettings.Networks[network];
  if (!networkSettings?.IPAddress || !networkSettings.NetworkID)
    throw new Error(`${spec.name} has no address on ${network}`);
  return new DockerMember(
    spec.name,
    networkSettings.IPAddress,
    dir,
    started,
    handle,
    engine.container.dockerode.getNetwork(networkSettings.NetworkID),
    Number(keeper),
    await mappedPorts(handle),
    diskBytes !== null,
    routedHere,
  );
}

/**
 * Creates and starts a member's container. The engine picks each published port's host port, and
 * that port can be taken between its pick and the bind ("address already in use", seen in CI):
 * the half-created container is removed and the start tried again, when the engine picks anew.
 */
/** What a member's container is made of: its spec, image, network, labels, disk and directory. */
interface ContainerPlan {
  spec: MemberSpec;
  image: DockerImage;
  network: string;
  labels: Record<string, string>;
  diskBytes: number | null;
  dir: string;
}

async function startContainer(
  engine: ContainerRuntimeClient,
  plan: ContainerPlan,
): Promise<StartedTestContainer> {
  const name = `pgchaos-${plan.labels[RUN_LABEL]}-${plan.spec.name}`;
  for (let attempt = 1; ; attempt++) {
    try {
      return await memberContainer(plan, name);
    } catch (error) {
      if (attempt >= 3 || !/address already in use/i.test(String(error))) throw error;
      await engine.container.dockerode
        .getContainer(name)
        .remove({ force: true, v: true })
        .catch(() => undefined);
    }
  }
}

function memberContainer(
  { spec, image, network, labels, diskBytes, dir }: ContainerPlan,
  name: string,
): Promise<StartedTestContainer> {
  const container = new MemberContainer(image.name);
  if (diskBytes !== null) container.withTmpFs({ [dir]: `size=${diskBytes},mode=0700` });
  return (
    container
      .withName(name)
      .withHostname(spec.name)
      .withLabels(labels)
      // No network aliases: with them testcontainers also attaches the default bridge, a path that
      // partitions would not cut. Peers use addresses anyway.
      .withNetworkMode(network)
      .withAddedCapabilities("NET_ADMIN")
      .withInit()
      .withUser("root")
      .withEntrypoint(["sleep"])
      .withCommand(["infinity"])
      // The instruments' API ports too: a link fault's Toxiproxy is driven from the harness.
      .withExposedPorts(...spec.ports, ...INSTRUMENT_API_PORTS)
      // Nothing listens yet (the default waits for the ports); an exec proves the member is usable.
      .withWaitStrategy(Wait.forSuccessfulCommand("true"))
      .withStartupTimeout(60_000)
      .start()
  );
}

/** The image's stack label (docker/build.sh sets it) and its newest PostgreSQL. */
async function stackOf(image: DockerImage, member: DockerMember | undefined): Promise<Stack> {
  if (!member) throw new UsageError("a Docker run needs at least one member");
  const listed = await member.exec(["sh", "-c", "ls -d /usr/lib/postgresql/*/bin"]);
  const newest = listed.stdout
    .split("\n")
    .map((line) => /^\/usr\/lib\/postgresql\/(\d+)\/bin$/.exec(line.trim()))
    .filter((match) => match !== null)
    .sort((a, b) => Number(b[1]) - Number(a[1]))[0];
  if (!newest) throw new UsageError(`image ${image.name} has no PostgreSQL (no /usr/lib/postgresql/*/bin)`);
  return {
    name: image.labels["pgchaos.stack"] ?? image.name,
    postgresBin: newest[0],
    image: { name: image.name, id: image.id },
  };
}
