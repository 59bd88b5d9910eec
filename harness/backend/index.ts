import type { BackendKind, STACKS } from "../model/scenario.ts";
import type { Backend } from "./backend.ts";
import { DockerBackend } from "./docker.ts";
import { KubernetesBackend } from "./kubernetes.ts";
import { LocalBackend } from "./local.ts";

/** How one run's members are hosted: the backend, and on Docker the stack or the user's own image. */
export interface BackendChoice {
  kind: BackendKind;
  /** docker, kubernetes: bookworm or trixie (pgchaos/node:<stack>); ignored when image is set. */
  stack: (typeof STACKS)[number];
  /** docker: a user's own image instead of a stack's. */
  image: string | null;
}

export function imageOf(choice: BackendChoice): string {
  return choice.image ?? `pgchaos/node:${choice.stack}`;
}

export function createBackend(
  choice: BackendChoice,
  runId: string,
  options: { diskBytes: number | null; say?: (line: string) => void } = { diskBytes: null },
): Backend {
  if (choice.kind === "ssh") throw new Error("an ssh backend is built from a cluster file (SshBackend)");
  if (choice.kind === "kubernetes") {
    return new KubernetesBackend({
      runId,
      image: imageOf(choice),
      ...(options.say ? { say: options.say } : {}),
    });
  }
  return choice.kind === "local"
    ? new LocalBackend(runId, options)
    : new DockerBackend({ runId, image: imageOf(choice), diskBytes: options.diskBytes });
}
