import type { Capability } from "../backend/backend.ts";
import { writeGapLimitMs } from "../common/abort-rule.ts";
import { parseDuration } from "../common/duration.ts";
import { UsageError } from "../common/errors.ts";
import { locate, parseYaml, readSource } from "../common/yaml.ts";
import { isHosted } from "../entrypoints/entrypoint.ts";
import type { Sides } from "../faults/fault.ts";
import { type FaultName, type FaultOptions, faults } from "../faults/index.ts";
import type { NemesisStep } from "../faults/nemesis.ts";
import type { StartMode } from "../model/cluster.ts";
import {
  type EntryPointKind,
  type NameServiceSettings,
  type STACKS,
  type ScenarioSetup,
  type SweepAxis,
  type Target,
  type WriteKind,
  joinTargets,
} from "../model/scenario.ts";
import { nodeNames } from "../topology/members.ts";
import { APPENDS_PER_KEY } from "../workload/list-append.ts";
import {
  ENTRYPOINT_TOPOLOGIES,
  type ScenarioDocument,
  TOPOLOGY_TARGETS,
  haSettings,
  scenarioSchema,
} from "./schema.ts";

/**
 * A step as the runner plays it. A fault step's options are what that fault's own schema parsed
 * (faults/index.ts), so the step's vocabulary belongs here, above the faults, not in model/.
 */
export type Step =
  | {
      kind: "wait";
      until: "healthy" | "writable";
      timeoutMs: number;
      /** healthy only: how long it must hold before the step returns. */
      stableMs: number;
    }
  | { kind: "sleep"; ms: number /** A random 0..jitterMs more, from the run's seed. */; jitterMs: number }
  | {
      kind: "fault";
      fault: FaultName;
      /** The members it hits (for a partition: the isolated ones); null for a fault on links. */
      target: Target | null;
      /** The two sides of a fault on links (a partition between, latency, …); null with a target. */
      between: Sides | null;
      /** The step's keys as the fault's own option schema parsed them: what its inject takes. */
      options: FaultOptions;
      /** Heal by itself after this long; null: at the next heal step. */
      durationMs: number | null;
      /** file:line:col of the step, for errors found once the backend is known. */
      at: string;
    }
  | {
      kind: "heal";
      mode: StartMode;
      /** Heal only the faults on these members (resolved now); null: every fault. */
      target: Target | null;
    }
  | NemesisStep;

/** A validated scenario, ready to run: its setup (model/scenario.ts) and its steps. */
export interface Scenario extends ScenarioSetup {
  steps: Step[];
  /** What its faults need of the backend (each fault's own needs): the topology provides some (faketime). */
  needs: Capability[];
}

const DEFAULT_WAIT_MS = 60_000;
const DEFAULT_STABLE_MS = 3000;

export function loadScenario(file: string): Scenario {
  return parseScenario(readSource(file), file);
}

export function parseScenario(source: string, file: string): Scenario {
  const { doc, document, lineCounter } = parseYaml(scenarioSchema, source, file);
  const where: Where = (path) => `${file}:${locate(document.contents, { path }, lineCounter)}`;
  const names = nodeNames(doc.cluster.nodes);
  const entrypoints = [...new Set(Array.isArray(doc.entrypoint) ? doc.entrypoint : [doc.entrypoint])];
  for (const entrypoint of entrypoints) {
    const only = ENTRYPOINT_TOPOLOGIES[entrypoint];
    const without = only ? doc.topologies.filter((t) => !only.includes(t)) : [];
    if (without.length > 0) {
      const at = locate(document.contents, { path: ["entrypoint"] }, lineCounter);
      throw new UsageError(
        `${file}:${at}: entrypoint: ${entrypoint} works only with ${only?.join(", ")}, not with ${without.join(", ")}`,
      );
    }
  }
  const steps = doc.steps.map((step, index): Step => {
    if (step.wait) {
      return {
        kind: "wait",
        until: step.wait,
        timeoutMs: step.timeout ? ms(step.timeout) : DEFAULT_WAIT_MS,
        stableMs: step.wait !== "healthy" ? 0 : step.stable ? ms(step.stable) : DEFAULT_STABLE_MS,
      };
    }
    if (step.sleep) return { kind: "sleep", ms: ms(step.sleep), jitterMs: step.jitter ? ms(step.jitter) : 0 };
    const fail = (key: string, message: string): never => {
      const at = locate(document.contents, { path: ["steps", index, ...key.split(".")] }, lineCounter);
      throw new UsageError(`${file}:${at}: steps[${index}].${key}: ${message}`);
    };
    const checkGroups = (groups: [string, string][]) => {
      for (const [key, group] of groups) {
        const node = group.startsWith("node:") ? group.slice(5) : undefined;
        if (node !== undefined && !names.includes(node)) {
          fail(
            key,
            `no node "${node}" in a ${doc.cluster.nodes}-node cluster (nodes are ${names.join(", ")})`,
          );
        }
        const only = TOPOLOGY_TARGETS[group];
        const without = only ? doc.topologies.filter((t) => !only.includes(t)) : [];
        if (only && without.length > 0) {
          fail(key, `${group} exists only on ${only.join(", ")}, not on ${without.join(", ")}`);
        }
        if (group === "entrypoint" && !entrypoints.some(isHosted)) {
          fail(
            key,
            "entrypoint needs an entry point on a host of its own (entrypoint: haproxy, pgpool or dns)",
          );
        }
      }
    };
    if (step.nemesis) {
      const spec = step.nemesis;
      checkGroups(spec.targets.map((group): [string, string] => ["nemesis.targets", group]));
      return {
        kind: "nemesis",
        faults: spec.faults,
        targets: spec.targets,
        intervalMs: [ms(spec.interval[0]), ms(spec.interval[1])],
        durationMs: [ms(spec.duration[0]), ms(spec.duration[1])],
        totalMs: ms(spec.total),
        percent: spec.percent,
        at: `${file}:${locate(document.contents, { path: ["steps", index, "nemesis"] }, lineCounter)}`,
      };
    }
    if (step.fault) {
      const fault = faults[step.fault];
      const written = step as Record<string, unknown>;
      const keys = Object.keys(fault.options.shape);
      // Checked already by the step schema: this parse only gives the fault's own types.
      const options = fault.options.parse(Object.fromEntries(keys.map((key) => [key, written[key]])));
      const aimed =
        fault.aim === "target"
          ? { target: joinTargets([step.target ?? []].flat()), between: null }
          : fault.aim.at(options);
      const aimKeys = fault.aim === "target" ? ["target"] : fault.aim.keys;
      checkGroups([
        ...aimKeys.flatMap((key) =>
          [written[key] ?? []].flat(2).map((group): [string, string] => [key, String(group)]),
        ),
        ...(fault.names?.(options) ?? []),
      ]);
      return {
        kind: "fault",
        fault: step.fault,
        target: aimed.target,
        between: aimed.between,
        options: options as FaultOptions,
        durationMs: step.duration ? ms(step.duration) : null,
        at: `${file}:${locate(document.contents, { path: ["steps", index, "fault"] }, lineCounter)}`,
      };
    }
    const only = step.target === undefined ? [] : [step.target].flat();
    checkGroups(only.map((group): [string, string] => ["target", group]));
    return {
      kind: "heal",
      mode: step.heal === "restart" ? "restart" : "repair",
      target: only.length > 0 ? joinTargets(only) : null,
    };
  });
  const sweep = Object.entries(doc.sweep ?? {}).map(([key, values]): SweepAxis => {
    const at = () => locate(document.contents, { path: ["sweep", key] }, lineCounter);
    if (key === "stack") return { kind: "stack", key, values: values as (typeof STACKS)[number][] };
    const [name = "", setting = ""] = key.split(".");
    const topology = doc.topologies.find((t) => t === name);
    if (topology === undefined) {
      throw new UsageError(`${file}:${at()}: sweep.${key}: ${name} is not among this scenario's topologies`);
    }
    for (const value of values) {
      // Each point must be a valid setting, checked as if written under cluster.ha.
      const ha = { ...doc.cluster.ha, [topology]: { ...doc.cluster.ha[topology], [setting]: value } };
      const checked = haSettings.safeParse(ha);
      if (!checked.success) {
        const issue = checked.error.issues[0];
        throw new UsageError(`${file}:${at()}: sweep.${key}: ${JSON.stringify(value)}: ${issue?.message}`);
      }
    }
    return { kind: "setting", key, topology, setting, values };
  });
  return {
    file,
    source,
    name: doc.name,
    description: doc.description ?? "",
    topologies: doc.topologies,
    backend: doc.backend ?? null,
    cluster: doc.cluster,
    workload: {
      write: writeKind(doc.workload, where),
      writers: doc.workload.writers,
      rate: doc.workload.rate,
      timeoutMs: ms(doc.workload.timeout),
      readers: doc.workload.readers,
      placed: doc.workload.groups.map((g, index) => ({
        name: g.name,
        writers: g.writers || placedNeedsClients(g.readers, index, where),
        readers: g.readers,
        rate: g.rate,
        with: g.placement.with,
        connect: placedConnect(g.placement.connect, entrypoints, index, where),
      })),
    },
    entrypoints,
    nameService: nameServiceSettings(doc.dns, where),
    steps,
    needs: [
      ...new Set(
        steps.flatMap((step) =>
          (step.kind === "fault" ? [step.fault] : step.kind === "nemesis" ? step.faults : []).flatMap(
            (name) => faults[name].needs,
          ),
        ),
      ),
    ],
    expect: doc.expect,
    timeoutMs: ms(doc.timeout),
    abortWriteGapMs: writeGapLimitMs(doc.abort_if),
    sweep,
  };
}

/** file:line:col of a key in the scenario. */
type Where = (path: PropertyKey[]) => string;

/** A group that connects by name needs the name service, which only the dns entry point starts. */
function placedConnect(
  connect: "cluster" | "local" | "dns",
  entrypoints: EntryPointKind[],
  index: number,
  where: Where,
): "cluster" | "local" | "dns" {
  if (connect === "dns" && !entrypoints.includes("dns")) {
    throw new UsageError(
      `${where(["workload", "groups", index, "placement", "connect"])}: workload.groups[${index}].placement.connect: dns needs entrypoint: dns (its name service)`,
    );
  }
  return connect;
}

/** A TTL is whole seconds in DNS; an interval shorter than a second would poll the HA manager in a loop. */
function nameServiceSettings(dns: ScenarioDocument["dns"], where: Where): NameServiceSettings {
  const ttlMs = ms(dns.ttl);
  if (ttlMs % 1000 !== 0)
    throw new UsageError(`${where(["dns", "ttl"])}: dns.ttl: whole seconds (DNS TTLs are)`);
  const intervalMs = ms(dns.interval);
  if (intervalMs < 1000) throw new UsageError(`${where(["dns", "interval"])}: dns.interval: at least 1s`);
  return { intervalMs, ttlS: ttlMs / 1000 };
}

/** Transaction settings belong to list-append; given to the ledger kind they would silently mean nothing. */
function writeKind(workload: ScenarioDocument["workload"], where: Where): WriteKind {
  if (workload.kind === "list-append") {
    return {
      kind: "list-append",
      isolation: workload.isolation ?? "serializable",
      keys: workload.keys ?? 5,
      appendsPerKey: APPENDS_PER_KEY,
    };
  }
  for (const key of ["isolation", "keys"] as const) {
    if (workload[key] !== undefined) {
      throw new UsageError(
        `${where(["workload", key])}: workload.${key}: only with workload.kind: list-append`,
      );
    }
  }
  return { kind: "ledger" };
}

/** A placed group with neither writers nor readers would place a helper that does nothing. */
function placedNeedsClients(readers: number, index: number, where: Where): number {
  if (readers > 0) return 0;
  throw new UsageError(
    `${where(["workload", "groups", index, "writers"])}: workload.groups[${index}]: give it writers or readers (both are 0)`,
  );
}

function ms(text: string): number {
  const value = parseDuration(text);
  if (value === undefined) throw new Error(`unchecked duration ${text}`);
  return value;
}
