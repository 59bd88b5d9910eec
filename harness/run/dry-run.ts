import { randomBytes } from "node:crypto";
import { attacherFor } from "../attach/attachers.ts";
import { type ClusterFile, databasePassword } from "../attach/cluster-file.ts";
import { SshBackend } from "../backend/ssh-backend.ts";
import { betweenLabel } from "../faults/options.ts";
import { resolveTarget } from "../faults/targets.ts";
import type { ClusterStatus } from "../model/cluster.ts";
import type { Member } from "../model/record.ts";
import { type Target, targetGroups } from "../model/scenario.ts";
import type { Step } from "../scenario/scenario.ts";
import type { Plan } from "./plan.ts";

/** The cluster as it is now, when there is one to ask (an attached run); null for a cluster not yet started. */
export interface ClusterNow {
  status: ClusterStatus;
  members: Member[];
}

/**
 * `pgchaos run --dry-run`: the plan, and each step with the members it would hit. On an attached
 * cluster the targets resolve against what the HA manager says now — the state a run would start
 * from; a later step may find it changed, since an earlier fault changes it (that is the point).
 * Nothing is injected, written or created.
 */
export function describePlan(
  plan: Plan,
  attached: { cluster: ClusterFile; now: ClusterNow } | null,
): string[] {
  const lines = [
    `dry run: ${plan.runs.length} run(s), plan seed ${plan.seed}; nothing is started or injected`,
  ];
  const now = attached?.now ?? null;
  if (attached)
    lines.push(
      `cluster ${attached.cluster.name} (${attached.cluster.ha}) now: ${attached.now.status.detail}`,
    );
  for (const run of plan.runs) {
    const { kind, stack, image } = run.backend;
    const on = attached
      ? `attached over ssh`
      : `backend ${kind}${kind === "docker" || kind === "kubernetes" ? ` (${image ?? `stack ${stack}`})` : ""}`;
    lines.push(`${run.key} (seed ${run.seed}, ${on})`);
    for (const group of run.scenario.workload.placed)
      lines.push(`  client group ${group.name} → on ${hits(group.with, now)}`);
    for (const step of run.scenario.steps) lines.push(`  ${describeStep(step, now)}`);
  }
  return lines;
}

export function describeStep(step: Step, now: ClusterNow | null): string {
  switch (step.kind) {
    case "sleep":
      return `sleep ${step.ms / 1000}s${step.jitterMs > 0 ? ` (+ up to ${step.jitterMs / 1000}s)` : ""}`;
    case "wait":
      return `wait ${step.until} (up to ${step.timeoutMs / 1000}s)`;
    case "fault": {
      const lasting = step.durationMs === null ? "" : ` for ${step.durationMs / 1000}s`;
      if (step.target === null)
        return `fault ${step.fault} ${betweenLabel(step.between ?? [[], []])}${lasting}`;
      return `fault ${step.fault} → ${hits(step.target, now)}${lasting}`;
    }
    case "heal":
      return step.target === null ? "heal every fault" : `heal ${hits(step.target, now)}`;
    case "nemesis":
      return `nemesis: ${step.faults.join(", ")} on ${step.targets.map((t) => hits(t, now)).join("; ")} for ${step.totalMs / 1000}s (schedule drawn from the run's seed)`;
  }
}

/** "primary = n1", "replica = one of n2, n3", or the group alone when no cluster can be asked. */
function hits(target: Target, now: ClusterNow | null): string {
  return targetGroups(target)
    .map((group) => {
      if (!now) return `${group} (resolved when the step fires)`;
      try {
        if (group === "replica") {
          const all = resolveTarget("replicas", now.status, now.members);
          return `${group} = ${all.length > 1 ? `one of ${all.join(", ")}` : all.join("")}`;
        }
        return `${group} = ${resolveTarget(group, now.status, now.members).join(", ")}`;
      } catch (error) {
        return `${group} = none right now (${(error as Error).message})`;
      }
    })
    .join(" + ");
}

/** Asks an attached cluster's HA manager who is who, over SSH, and disconnects. */
export async function askCluster(cluster: ClusterFile): Promise<ClusterNow> {
  const attach = attacherFor(cluster.ha);
  if (!attach) throw new Error(`attaching to ${cluster.ha} is not supported yet`);
  const builder = new SshBackend(cluster, `dry${randomBytes(3).toString("hex")}`);
  try {
    const backend = await builder.start();
    const password = databasePassword(cluster);
    const topology = await attach({ backend, cluster, password, schema: "public" });
    return { status: await topology.status(), members: topology.members() };
  } finally {
    await builder.destroy();
  }
}
