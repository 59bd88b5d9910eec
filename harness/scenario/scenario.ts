import { readFileSync } from "node:fs";
import { LineCounter, type Node, isMap, isScalar, parseDocument } from "yaml";
import type { z } from "zod";
import type { BackendKind, Capability } from "../backend/backend.ts";
import { UsageError } from "../common/errors.ts";
import { type EntryPointKind, type NameServiceSettings, isHosted } from "../entrypoints/entrypoint.ts";
import type { Sides } from "../faults/fault.ts";
import { type FaultOptions, faults } from "../faults/index.ts";
import { nodeNames } from "../topology/members.ts";
import type { StartMode } from "../topology/topology.ts";
import { APPENDS_PER_KEY } from "../workload/list-append.ts";
import type { WriteKind } from "../workload/writers.ts";
import { parseDuration } from "./duration.ts";
import {
  ENTRYPOINT_TOPOLOGIES,
  type FaultName,
  type STACKS,
  type ScenarioDocument,
  TOPOLOGY_TARGETS,
  type TopologyName,
  haSettings,
  scenarioSchema,
  writeGapLimitMs,
} from "./schema.ts";

/** A scenario target as written: one group, or several hit at once written "primary + sync_standby". */
export type Target = string;

const TARGET_SEPARATOR = " + ";

export function joinTargets(groups: string[]): Target {
  return groups.join(TARGET_SEPARATOR);
}

/** The groups of a target, each resolved on its own against the same cluster state. */
export function targetGroups(target: Target): string[] {
  return target.split(TARGET_SEPARATOR);
}
export type { FaultName };
/** A fault a nemesis may draw (faults/index.ts: NEMESIS_FAULTS). */
export type NemesisFault = FaultName;

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

/** Random faults at random times from the run's seed (harness/faults/nemesis.ts draws the schedule). */
export interface NemesisStep {
  kind: "nemesis";
  faults: NemesisFault[];
  targets: Target[];
  /** [shortest, longest] quiet time after a heal, and fault length. */
  intervalMs: [number, number];
  durationMs: [number, number];
  totalMs: number;
  /** packet-loss: share of packets dropped. */
  percent: number;
  at: string;
}

/** A validated scenario, ready to run: durations in ms, steps as a tagged union. */
export interface Scenario {
  file: string;
  source: string;
  name: string;
  description: string;
  topologies: ScenarioDocument["topologies"];
  /** The backend the scenario asks for; null: whatever the invocation chooses (local by default). */
  backend: BackendKind | null;
  cluster: ScenarioDocument["cluster"];
  workload: {
    write: WriteKind;
    writers: number;
    rate: number;
    timeoutMs: number;
    readers: { primary: number; replica: number; rate: number };
    /** Client groups placed inside a member's host. */
    placed: {
      name: string;
      writers: number;
      readers: number;
      rate: number;
      with: Target;
      /** cluster: every node, as a multi-host string; local: only the member it sits beside; dns: the name service's name. */
      connect: "cluster" | "local" | "dns";
    }[];
  };
  /** One writer group per entry point, all running at once. */
  entrypoints: EntryPointKind[];
  /** The dns entry point's poll interval and record TTL. */
  nameService: NameServiceSettings;
  steps: Step[];
  /** What its faults need of the backend (each fault's own needs): the topology provides some (faketime). */
  needs: Capability[];
  expect: ScenarioDocument["expect"];
  /** The longest one run may take before it is torn down and recorded as failed. */
  timeoutMs: number;
  /** abort_if write_gap: the run stops (healed) once no write was acknowledged for this long; null: never. */
  abortWriteGapMs: number | null;
  /** One axis per `sweep:` key, in the order written; the plan runs every combination. */
  sweep: SweepAxis[];
}

export type SweepValue = string | number | boolean;

/** `stack: [...]`, or one HA manager's setting (`patroni.ttl: [10, 20]`), with its values. */
export type SweepAxis =
  | { kind: "stack"; key: "stack"; values: (typeof STACKS)[number][] }
  | { kind: "setting"; key: string; topology: TopologyName; setting: string; values: SweepValue[] };

const DEFAULT_WAIT_MS = 60_000;
const DEFAULT_STABLE_MS = 3000;

export function loadScenario(file: string): Scenario {
  return parseScenario(readSource(file), file);
}

/** A file's text, or a one-line error naming it. */
export function readSource(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new UsageError(`${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
}

/**
 * YAML checked against a schema: the first problem as `file:line:col: key: message`. The document
 * and line counter come back too, for checks the schema cannot make.
 */
export function parseYaml<Schema extends z.ZodType>(schema: Schema, source: string, file: string) {
  const lineCounter = new LineCounter();
  const document = parseDocument(source, { lineCounter, prettyErrors: false });
  const yamlError = document.errors[0];
  if (yamlError) {
    const pos = lineCounter.linePos(yamlError.pos[0]);
    throw new UsageError(`${file}:${pos.line}:${pos.col}: ${yamlError.message.split("\n")[0]}`);
  }
  const parsed = schema.safeParse(document.toJS());
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as z.core.$ZodIssue;
    throw new UsageError(`${file}:${locate(document.contents, issue, lineCounter)}: ${describeIssue(issue)}`);
  }
  return { doc: parsed.data as z.output<Schema>, document, lineCounter };
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

export function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
  const where = path.replace(/^\./, "") || "(top level)";
  if (issue.code === "unrecognized_keys") {
    return `${where}: unknown key ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
  }
  if (issue.code === "invalid_type" && issue.message.includes("received undefined")) {
    return `${where}: missing`;
  }
  return `${where}: ${issue.message}`;
}

/** line:column of the YAML node an issue points at (the unknown key itself for unrecognized_keys). */
export function locate(
  root: unknown,
  issue: { path: PropertyKey[]; code?: string; keys?: string[] },
  lineCounter: LineCounter,
): string {
  let node: unknown = root;
  let found: Node | undefined = isNode(root) ? root : undefined;
  for (const key of issue.path) {
    if (!node || typeof node !== "object" || !("get" in node)) break;
    const next = (node as { get(k: unknown, keepScalar: boolean): unknown }).get(key, true);
    if (!isNode(next)) break;
    node = next;
    found = next;
  }
  if (issue.code === "unrecognized_keys" && isMap(node) && issue.keys?.[0]) {
    const pair = node.items.find((item) => isScalar(item.key) && item.key.value === issue.keys?.[0]);
    if (pair && isNode(pair.key)) found = pair.key;
  }
  const offset = found?.range?.[0] ?? 0;
  const pos = lineCounter.linePos(offset);
  return `${pos.line}:${pos.col}`;
}

function isNode(value: unknown): value is Node {
  return typeof value === "object" && value !== null && "range" in value;
}
