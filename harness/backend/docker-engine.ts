// Ryuk (testcontainers' reaper) is an image to pull, and no registry is reachable; runs are
// removed by their labels instead. testcontainers reads this at the first start(), not at import.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= "true";

import { type ContainerRuntimeClient, getContainerRuntimeClient } from "testcontainers";
import { sleep } from "../common/clock.ts";
import { UsageError } from "../common/errors.ts";
import { STACKS } from "../model/scenario.ts";

export type Dockerode = ContainerRuntimeClient["container"]["dockerode"];
export type DockerContainer = ReturnType<Dockerode["getContainer"]>;

/** Labels on everything a run creates: `pgchaos cleanup` finds leftovers by them, never by name. */
export const RUN_LABEL = "pgchaos.run";
export const HARNESS_PID_LABEL = "pgchaos.harness-pid";
/** The harness's start time beside its PID: cleanup tells a live harness from a reused PID. */
export const HARNESS_STARTED_LABEL = "pgchaos.harness-started";
export const MEMBER_LABEL = "pgchaos.member";

/** The images docker/build.sh makes, one per stack. */
export const STACK_IMAGES = STACKS.map((stack) => `pgchaos/node:${stack}`);

/** An engine that answers at all answers in milliseconds; a black-holed DOCKER_HOST would hang for minutes. */
const ENGINE_TIMEOUT_MS = 5_000;

export async function dockerEngine(): Promise<ContainerRuntimeClient> {
  try {
    return await withTimeout(getContainerRuntimeClient(), ENGINE_TIMEOUT_MS);
  } catch {
    throw new UsageError(
      `no Docker engine reachable (DOCKER_HOST=${process.env.DOCKER_HOST || "unset"}): start dockerd, or set DOCKER_HOST`,
    );
  }
}

export interface DockerImage {
  name: string;
  id: string;
  labels: Record<string, string>;
}

/** A stack's own image is built here (never pulled); any other image must be on the engine already. */
export function missingImage(name: string): UsageError {
  const stack = STACKS.find((s) => name === `pgchaos/node:${s}`);
  return new UsageError(
    stack
      ? `image ${name} is not built — fix: bash docker/build.sh ${stack}`
      : `image ${name} not found on the Docker engine — fix: docker load/pull it there`,
  );
}

/**
 * The image, from the engine's own store. Checked up front because a missing image otherwise ends
 * in a pull, and with no registry that fails as an unhelpful `(HTTP code 500) … no such host`.
 */
export async function requireImage(engine: ContainerRuntimeClient, name: string): Promise<DockerImage> {
  try {
    const info = await engine.container.dockerode.getImage(name).inspect();
    return { name, id: info.Id, labels: info.Config?.Labels ?? {} };
  } catch (error) {
    if (statusCode(error) !== 404) throw error;
    throw missingImage(name);
  }
}

export interface DockerRun {
  runId: string;
  harnessPid: number;
  harnessStarted: string | undefined;
  containers: number;
  networks: number;
}

/** Every run with something left on the engine; none when no engine runs (nothing can be left there). */
export async function listDockerRuns(): Promise<DockerRun[]> {
  let docker: Dockerode;
  try {
    docker = (await dockerEngine()).container.dockerode;
  } catch {
    return [];
  }
  const filters = { label: [RUN_LABEL] };
  const [containers, networks] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listNetworks({ filters }),
  ]);
  const runs = new Map<string, DockerRun>();
  const entry = (labels: Record<string, string> | undefined) => {
    const runId = labels?.[RUN_LABEL] ?? "";
    let run = runs.get(runId);
    if (!run) {
      run = {
        runId,
        harnessPid: Number(labels?.[HARNESS_PID_LABEL] ?? 0),
        harnessStarted: labels?.[HARNESS_STARTED_LABEL],
        containers: 0,
        networks: 0,
      };
      runs.set(runId, run);
    }
    return run;
  };
  for (const container of containers) entry(container.Labels).containers += 1;
  for (const network of networks) entry(network.Labels).networks += 1;
  return [...runs.values()];
}

/** Removes a run's containers (with their anonymous volumes), then its network. Idempotent. */
export async function removeDockerRun(runId: string): Promise<void> {
  const docker = (await dockerEngine()).container.dockerode;
  const filters = { label: [`${RUN_LABEL}=${runId}`] };
  const containers = await docker.listContainers({ all: true, filters });
  await Promise.all(
    containers.map((c) => ignoreGone(docker.getContainer(c.Id).remove({ force: true, v: true }))),
  );
  for (const network of await docker.listNetworks({ filters })) {
    // A concurrent destroy may still be detaching a container: "has active endpoints" for a moment.
    for (let attempt = 0; ; attempt++) {
      try {
        await ignoreGone(docker.getNetwork(network.Id).remove());
        break;
      } catch (error) {
        if (attempt >= 25) throw error;
        await sleep(200);
      }
    }
  }
}

export interface DockerStatus {
  reachable: boolean;
  detail: string;
  images: { name: string; id: string | null }[];
}

/** For `pgchaos doctor`: the engine, and which stack images it has. */
export async function dockerStatus(): Promise<DockerStatus> {
  try {
    const engine = await dockerEngine();
    const docker = engine.container.dockerode;
    await withTimeout(docker.ping(), ENGINE_TIMEOUT_MS);
    const images = await Promise.all(
      STACK_IMAGES.map(async (name) => ({
        name,
        id: await docker
          .getImage(name)
          .inspect()
          .then((info) => info.Id)
          .catch(() => null),
      })),
    );
    const runtime = engine.info.containerRuntime;
    return { reachable: true, detail: `Docker ${runtime.serverVersion} on ${runtime.host}`, images };
  } catch (error) {
    return {
      reachable: false,
      detail: error instanceof Error ? error.message : String(error),
      images: STACK_IMAGES.map((name) => ({ name, id: null })),
    };
  }
}

export function statusCode(error: unknown): number | undefined {
  return (error as { statusCode?: number } | null)?.statusCode;
}

/** 404: already gone; 409: another removal of it is under way. */
async function ignoreGone(removal: Promise<unknown>): Promise<void> {
  try {
    await removal;
  } catch (error) {
    const code = statusCode(error);
    if (code !== 404 && code !== 409) throw error;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
