/**
 * Which backend a run gets, from the invocation's flags and the scenario, and whether it can do
 * what the scenario asks: here, above both backend/ and faults/, because a fault's needs are the
 * fault registry's and a backend's capabilities are the backend's.
 */

import { CAPABILITIES } from "../backend/backend.ts";
import { DEFAULT_DISK_SIZE, MIN_DISK_BYTES, parseDiskSize } from "../backend/disk.ts";
import type { BackendChoice } from "../backend/index.ts";
import { UsageError } from "../common/errors.ts";
import { type FaultName, faults } from "../faults/index.ts";
import type { BackendKind } from "../model/scenario.ts";
import { STACKS } from "../model/scenario.ts";
import type { Scenario } from "../scenario/scenario.ts";

/** The invocation's flags override the scenario's own choice; local and bookworm are the defaults. */
export function chooseBackend(
  scenario: Scenario,
  flags: { backend?: string; stack?: string; image?: string; attach?: boolean },
): BackendChoice {
  // Attaching (--cluster) always runs over SSH, whatever the scenario says it would be provisioned on.
  const kind = flags.attach ? "ssh" : (flags.backend ?? scenario.backend ?? "local");
  if (kind === "ssh" && !flags.attach)
    throw new UsageError("--backend ssh: give the hosts with --cluster <cluster.yaml> instead");
  if (kind !== "local" && kind !== "docker" && kind !== "ssh" && kind !== "kubernetes")
    throw new UsageError(`--backend ${kind}: unknown (known: local, docker, kubernetes)`);
  const stack = flags.stack ?? scenario.cluster.stack ?? "bookworm";
  if (!(STACKS as readonly string[]).includes(stack)) {
    throw new UsageError(`--stack ${stack}: unknown (known: ${STACKS.join(", ")}; or --image for your own)`);
  }
  const image = flags.image ?? null;
  if (kind === "ssh" && (flags.stack || flags.image))
    throw new UsageError("--cluster: the cluster's hosts run their own stack; drop --stack and --image");
  if (kind === "local" && (flags.stack || flags.image || scenario.cluster.stack)) {
    throw new UsageError(
      `${scenario.file}: a stack or image needs --backend docker (the local backend runs the host's own packages)`,
    );
  }
  checkCapabilities(scenario, kind);
  if (resolvesByName(scenario) && !CAPABILITIES[kind].has("resolver")) {
    throw new UsageError(
      `${scenario.file}: entrypoint dns needs a backend that gives members a resolver of their own (local); backend ${kind} cannot`,
    );
  }
  if (diskBytesFor(scenario) !== null && !CAPABILITIES[kind].has("disk")) {
    throw new UsageError(
      `${scenario.file}: cluster.disk needs a backend that can give members a disk of their own; backend ${kind} cannot`,
    );
  }
  return { kind, stack: stack as BackendChoice["stack"], image };
}

/** Clients that connect by name need a resolver of their own host's: the dns entry point's, placed groups'. */
function resolvesByName(scenario: Scenario): boolean {
  return scenario.entrypoints.includes("dns") || scenario.workload.placed.some((g) => g.connect === "dns");
}

/** A fault the backend cannot do is a validation error naming both, like a target a topology lacks. */
function checkCapabilities(scenario: Scenario, kind: BackendKind): void {
  const named = scenario.steps.flatMap((step) =>
    "at" in step ? faultsOf({ steps: [step] }).map((fault) => ({ fault, at: step.at })) : [],
  );
  for (const step of named) {
    const missing = faults[step.fault].needs.filter((need) => !CAPABILITIES[kind].has(need));
    if (missing.length > 0) {
      const able = (Object.keys(CAPABILITIES) as BackendKind[]).filter((k) =>
        missing.every((need) => CAPABILITIES[k].has(need)),
      );
      throw new UsageError(
        `${step.at}: fault ${step.fault} needs a backend that can ${missing.join(", ")} (${able.join(", ")}); backend ${kind} cannot`,
      );
    }
  }
}

/**
 * Bytes of the filesystem each member's directory gets, decided before anything starts; null when
 * no step needs one (a fault with the disk capability) and `cluster.disk` does not ask for it.
 */
export function diskBytesFor(scenario: Scenario): number | null {
  const needed = faultsOf(scenario).some((fault) => faults[fault].needs.includes("disk"));
  if (!needed && scenario.cluster.disk === undefined) return null;
  const bytes = parseDiskSize(scenario.cluster.disk ?? DEFAULT_DISK_SIZE);
  if (bytes < MIN_DISK_BYTES) {
    throw new UsageError(
      `${scenario.file}: cluster.disk ${scenario.cluster.disk}: too small for a member (at least ${MIN_DISK_BYTES / 2 ** 20}MB)`,
    );
  }
  return bytes;
}

/** Every fault a scenario can inject: its fault steps' and its nemesis steps' choices. */
function faultsOf(scenario: Pick<Scenario, "steps">): FaultName[] {
  return scenario.steps.flatMap((step) =>
    step.kind === "fault" ? [step.fault] : step.kind === "nemesis" ? step.faults : [],
  );
}
