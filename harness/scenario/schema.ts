import { z } from "zod";
import { abortRule } from "../common/abort-rule.ts";
import { parseDuration } from "../common/duration.ts";
import { FAULTS, type FaultName, NEMESIS_FAULTS, faults } from "../faults/index.ts";
import { duration, memberGroup } from "../faults/options.ts";
import {
  ENTRYPOINTS,
  ISOLATION_LEVELS,
  PROVISIONING_BACKENDS,
  STACKS,
  TOPOLOGIES,
  type TopologyName,
} from "../model/scenario.ts";
import { HA_MANAGERS } from "../topology/index.ts";
import { isAggregateKey, parseAggregateExpectation } from "../verify/aggregate.ts";
import { EXPECTATION_KEYS, parseExpectation } from "../verify/expectations.ts";

/**
 * Scenario format v1: the contract users read and copy. Extend compatibly; never rename a key.
 * `scenarios/schema.json` is generated from this (npm run schema) so editors can autocomplete.
 */

export const WORKLOAD_KINDS = ["ledger", "list-append"] as const;

/** Targets that exist only on some topologies: each HA manager's own (HaManager.targets), to the topologies that have it. */
export const TOPOLOGY_TARGETS: Record<string, readonly (typeof TOPOLOGIES)[number][]> = {};
for (const topology of TOPOLOGIES) {
  for (const name of HA_MANAGERS[topology].targets)
    TOPOLOGY_TARGETS[name] = [...(TOPOLOGY_TARGETS[name] ?? []), topology];
}

/**
 * Topologies that run only on some backends: patroni-k8s's kube-apiserver is built on this
 * machine (scripts/build-kube-apiserver.sh), and no node image carries it.
 */
export const TOPOLOGY_BACKENDS: Partial<Record<TopologyName, readonly string[]>> = {
  "patroni-k8s": ["local"],
};

/**
 * Entry points that work only with some topologies: HAProxy's check is Patroni's REST API;
 * Pgpool passes clients through to nodes with trust authentication, which Patroni's nodes do not use.
 */
export const ENTRYPOINT_TOPOLOGIES: Record<string, readonly (typeof TOPOLOGIES)[number][]> = {
  haproxy: ["patroni"],
  pgpool: ["pg_auto_failover", "repmgr"],
};

const target = memberGroup.describe(
  "Resolved when the step fires: primary | sync_standby | replica | monitor (pg_auto_failover) | node:<name>",
);

/** Each manager's settings schema under its name, keeping each schema's own type. */
function settingsOf<M extends Record<TopologyName, { settings: z.ZodType }>>(
  managers: M,
): { [K in TopologyName]: M[K]["settings"] } {
  return Object.fromEntries(Object.entries(managers).map(([name, m]) => [name, m.settings])) as {
    [K in TopologyName]: M[K]["settings"];
  };
}

/** Each HA manager's own settings (HaManager.settings); a sweep point is checked against this too. */
export const haSettings = z.strictObject(settingsOf(HA_MANAGERS));

const durationRange = z
  .tuple([duration, duration])
  .refine(([low, high]) => (parseDuration(low) ?? 0) <= (parseDuration(high) ?? 0), {
    message: "is [shortest, longest]: the first may not be longer than the second",
  });

const nemesis = z
  .strictObject({
    faults: z.array(z.enum(NEMESIS_FAULTS)).min(1).describe("The faults to draw from, each equally likely"),
    targets: z
      .array(target)
      .min(1)
      .describe("Where each fault lands, drawn per fault, resolved when it fires"),
    interval: durationRange
      .default(["5s", "15s"])
      .describe("Quiet time after one fault heals and before the next"),
    duration: durationRange
      .default(["3s", "10s"])
      .describe("How long each fault lasts before it is healed (a switchover has no duration)"),
    total: duration.describe("How long the schedule runs; every fault it injected is healed at its end"),
    percent: z.number().min(0).max(100).default(30).describe("packet-loss: share of packets dropped"),
  })
  .describe(
    "Random faults at random times, drawn from the run's seed: the same seed replays the same schedule, which the result's timeline records",
  );

/** Step keys a fault may own too, and the steps they belong to besides (jitter: a sleep's). */
const SHARED_KEY_ACTIONS: Record<string, readonly string[]> = { jitter: ["sleep"] };

/** "a", "a or b", "a, b or c". */
function either(names: readonly string[]): string {
  return names.length <= 1 ? names.join("") : `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`;
}

/** What a step accepts for a key: the option's own type before its fault parses it (`delay: 200ms`). */
function asWritten(field: z.ZodType): z.ZodType {
  if (field instanceof z.ZodOptional) return asWritten(field.unwrap() as z.ZodType);
  if (field instanceof z.ZodPipe) return asWritten(field.in as z.ZodType);
  return field;
}

/** Every fault's option keys, in registry order: the faults declaring each, their descriptions, its type as written. */
const OPTION_KEYS = new Map<string, { faults: FaultName[]; descriptions: string[]; types: z.ZodType[] }>();
for (const name of FAULTS) {
  for (const [key, field] of Object.entries(faults[name].options.shape) as [string, z.ZodType][]) {
    const entry = OPTION_KEYS.get(key) ?? { faults: [], descriptions: [], types: [] };
    entry.faults.push(name);
    if (field.description && !entry.descriptions.includes(field.description))
      entry.descriptions.push(field.description);
    if (!entry.types.includes(asWritten(field))) entry.types.push(asWritten(field));
    OPTION_KEYS.set(key, entry);
  }
}

/** A fault option key as a step key: any of its faults' types, described by all of them. */
function optionKey(key: string, common?: z.ZodType): z.ZodType {
  const entry = OPTION_KEYS.get(key);
  if (!entry) throw new Error(`no fault declares ${key}`);
  const [first, second, ...rest] = entry.types as [z.ZodType, ...z.ZodType[]];
  const type = common ? asWritten(common) : second ? z.union([first, second, ...rest]) : first;
  const descriptions = [...(common?.description ? [common.description] : []), ...entry.descriptions];
  return type.optional().describe(descriptions.join("; "));
}

/** The step's own key a fault's option shares (jitter); a fault owning any other (target, duration) is a mistake. */
function sharedKey(key: string): z.ZodType | undefined {
  if (!(key in stepKeys)) return undefined;
  if (!(key in SHARED_KEY_ACTIONS)) throw new Error(`a fault cannot own the step key ${key}`);
  return stepKeys[key as keyof typeof stepKeys];
}

/** A required option: one whose schema refuses it missing. */
function required(field: z.ZodType): boolean {
  return !field.safeParse(undefined).success;
}

/** The keys of a step that are not a fault's own. */
const stepKeys = {
  nemesis: nemesis.optional(),
  wait: z
    .enum(["healthy", "writable"])
    .optional()
    .describe(
      "healthy: every member up, replicas streaming; writable: on every entry point, a write sent after this step began is acknowledged",
    ),
  timeout: duration.optional().describe("Only with wait; default 60s"),
  stable: duration
    .optional()
    .describe(
      "Only with wait: healthy; how long the cluster must stay healthy before the step returns (default 3s), so a run never moves on from a state the HA manager is about to change",
    ),
  sleep: duration.optional(),
  jitter: duration
    .optional()
    .describe("With sleep: add a random 0..jitter to it, drawn from the run's seed (--seed replays it)"),
  fault: z
    .enum(FAULTS)
    .optional()
    .describe(FAULTS.map((name) => faults[name].summary).join("; ")),
  target: z
    .union([target, z.array(target).min(2)])
    .optional()
    .describe(
      "Resolved when the step fires: primary | sync_standby | replica | monitor (pg_auto_failover) | node:<name>; a list hits all of them at once, resolved together first (e.g. [primary, sync_standby]); on a heal step: heal only the faults on these members",
    ),
  duration: duration.optional().describe("Heal this fault by itself after this long (e.g. a freeze of 10s)"),
  heal: z
    .enum(["all", "restart"])
    .optional()
    .describe(
      "all: undo every fault, killed members come back through the HA manager's own repair (repmgr: node rejoin); restart: killed members just start again as they were",
    ),
};

/** A step's keys from its action's and every fault's, each option key checked against the fault it belongs to. */
const step = z
  .strictObject({
    ...stepKeys,
    ...Object.fromEntries([...OPTION_KEYS.keys()].map((key) => [key, optionKey(key, sharedKey(key))])),
  })
  .superRefine((value, ctx) => {
    const actions = (["wait", "sleep", "fault", "heal", "nemesis"] as const).filter(
      (key) => value[key] !== undefined,
    );
    if (actions.length !== 1) {
      ctx.addIssue({
        code: "custom",
        message: `a step has exactly one of wait, sleep, fault, heal, nemesis (found ${actions.join(", ") || "none"})`,
      });
      return;
    }
    if (value.timeout !== undefined && value.wait === undefined) {
      ctx.addIssue({ code: "custom", path: ["timeout"], message: "timeout belongs to a wait step" });
    }
    if (value.stable !== undefined && value.wait !== "healthy") {
      ctx.addIssue({ code: "custom", path: ["stable"], message: "stable belongs to a wait: healthy step" });
    }
    const written = value as Record<string, unknown>;
    const fault = value.fault === undefined ? undefined : faults[value.fault];
    // An option key only on a step of a fault that declares it (or of the action it belongs to too).
    for (const [key, entry] of OPTION_KEYS) {
      if (written[key] === undefined) continue;
      const alsoOn = SHARED_KEY_ACTIONS[key] ?? [];
      if (alsoOn.some((action) => written[action] !== undefined)) continue;
      if (value.fault !== undefined && entry.faults.includes(value.fault)) continue;
      ctx.addIssue({
        code: "custom",
        path: [key],
        message: `${key} belongs to a ${either([...alsoOn, ...entry.faults])} step`,
      });
    }
    if (fault) {
      const shape = fault.options.shape as Record<string, z.ZodType>;
      const missing = Object.keys(shape).filter(
        (key) => required(shape[key] as z.ZodType) && written[key] === undefined,
      );
      for (const key of missing) {
        ctx.addIssue({ code: "custom", path: [key], message: `a ${fault.name} step needs ${key}` });
      }
      // The fault's own rules across its keys (a partition's isolate or between, bandwidth's sides).
      if (missing.length === 0) {
        const own = Object.fromEntries(Object.keys(shape).map((key) => [key, written[key]]));
        for (const issue of fault.options.safeParse(own).error?.issues ?? []) {
          ctx.addIssue({
            code: "custom",
            path: issue.path.length > 0 ? issue.path : ["fault"],
            message: issue.message,
          });
        }
      }
      if (fault.aim === "target" && value.target === undefined) {
        ctx.addIssue({ code: "custom", path: ["target"], message: "a fault step needs a target" });
      }
      if (fault.aim !== "target" && value.target !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["target"],
          message: `a ${fault.name} step names ${either(fault.aim.keys)}, not target`,
        });
      }
    }
    if (value.duration !== undefined && !fault?.heals) {
      ctx.addIssue({
        code: "custom",
        path: ["duration"],
        message: "duration belongs to a fault that can be healed",
      });
    }
    if (value.target !== undefined && value.fault === undefined && value.heal === undefined) {
      ctx.addIssue({ code: "custom", path: ["target"], message: "target belongs to a fault or heal step" });
    }
  });

const sweepValue = z.union([z.number(), z.string(), z.boolean()]);

/** `sweep:` — each key multiplies the plan: one run per value (and per repeat). */
const sweep = z
  .record(z.string(), z.array(sweepValue).min(1))
  .superRefine((axes, ctx) => {
    for (const [key, values] of Object.entries(axes)) {
      if (key === "stack") {
        const unknown = values.filter((v) => !(STACKS as readonly unknown[]).includes(v));
        if (unknown.length > 0)
          ctx.addIssue({
            code: "custom",
            path: [key],
            message: `unknown stack ${unknown.join(", ")} (known: ${STACKS.join(", ")})`,
          });
        continue;
      }
      const [topology, ...setting] = key.split(".");
      if (!(TOPOLOGIES as readonly string[]).includes(topology ?? "") || setting.length !== 1) {
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: `a sweep key is stack or <topology>.<setting> (e.g. patroni.ttl, repmgr.reconnect_attempts); topologies: ${TOPOLOGIES.join(", ")}`,
        });
      }
    }
  })
  .describe(
    "Runs the scenario once per value: stack: [bookworm, trixie] (docker), or an HA setting, e.g. patroni.ttl: [10, 20, 30]; the report plots RTO against it beside the bound it implies",
  );

const expectations = z
  .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
  .superRefine((record, ctx) => {
    for (const [key, raw] of Object.entries(record)) {
      try {
        if (isAggregateKey(key)) parseAggregateExpectation(key, raw);
        else parseExpectation(key, raw);
      } catch (error) {
        // The issue's path already names the key (file:line:col: expect.<key>: …): not twice.
        const message = (error as Error).message.replace(`expect.${key}: `, "");
        ctx.addIssue({ code: "custom", path: [key], message });
      }
    }
  })
  .describe(
    `Each line becomes pass/fail. Per run: ${EXPECTATION_KEYS.join(", ")} (rto also takes "within-bound": no more than the bound its HA settings imply). Over repeats (--repeat): <duration>_min|_p50|_p95|_max (e.g. rto_p95), <count>_runs|_rate (e.g. lost_writes_runs, split_brain_rate), failed_runs, pass_rate`,
  );

export const scenarioSchema = z.strictObject({
  $schema: z.string().optional(),
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { message: "use lower-case letters, digits and dashes" }),
  description: z.string().optional(),
  topologies: z.array(z.enum(TOPOLOGIES)).min(1),
  backend: z
    .enum(PROVISIONING_BACKENDS)
    .optional()
    .describe(
      "Where members live: local (network namespaces, root) or docker (containers); --backend overrides",
    ),
  timeout: duration
    .default("15m")
    .describe(
      "The longest one run may take; a run still going then is torn down and recorded as failed, and the plan goes on",
    ),
  sweep: sweep.optional(),
  cluster: z.strictObject({
    stack: z
      .enum(STACKS)
      .optional()
      .describe(
        "docker: the node image's stack — bookworm (PostgreSQL 15, Patroni 3.0.2) or trixie (PostgreSQL 17, Patroni 4.0.7); --stack overrides",
      ),
    nodes: z.number().int().min(2).max(9).default(3),
    replication: z.enum(["async", "sync"]).default("async"),
    ha: haSettings.default({}),
    disk: z
      .string()
      .regex(/^\d+(MB|GB)$/, { message: "is a size (write e.g. 512MB or 2GB)" })
      .optional()
      .describe(
        "Give each member's data directory a filesystem of its own of this size (what disk-full fills and io-freeze freezes); default 512MB when a step needs it",
      ),
  }),
  workload: z
    .strictObject({
      kind: z
        .enum(WORKLOAD_KINDS)
        .default("ledger")
        .describe(
          "ledger: each write inserts one ledger row; list-append: each write is a transaction that inserts its ledger row and appends to and reads a few keys' lists (Elle's model), checked for G0, G1a, G1b, G1c, G-single and G2-item",
        ),
      isolation: z
        .enum(ISOLATION_LEVELS)
        .optional()
        .describe("Only with kind: list-append; the transactions' isolation level (default serializable)"),
      keys: z
        .number()
        .int()
        .min(1)
        .max(64)
        .optional()
        .describe(
          "Only with kind: list-append; keys in use at once (default 5), each retired after 32 appends so lists stay short",
        ),
      writers: z.number().int().min(1).max(64).default(2),
      rate: z.number().min(0).default(50).describe("Writes per second per writer; 0 = as fast as possible"),
      timeout: duration
        .default("10s")
        .describe("A write without an answer after this is recorded as unknown"),
      readers: z
        .strictObject({
          primary: z
            .number()
            .int()
            .min(0)
            .max(64)
            .default(0)
            .describe("Readers per entry point on the writers' path (read-write)"),
          replica: z
            .number()
            .int()
            .min(0)
            .max(64)
            .default(0)
            .describe(
              "Readers per entry point on its read-only path: direct prefers standbys like target_session_attrs=prefer-standby, uri adds target_session_attrs=prefer-standby, haproxy uses its replica port (Patroni's /replica check), pgpool balances their sessions over the standbys (app_name_redirect_preference_list)",
            ),
          rate: z
            .number()
            .min(0)
            .default(50)
            .describe("Reads per second per reader; 0 = as fast as possible"),
        })
        .default({ primary: 0, replica: 0, rate: 50 })
        .describe("Readers of the ledger: every read is recorded with how far it saw each writer's writes"),
      groups: z
        .array(
          z.strictObject({
            name: z
              .string()
              .regex(/^[a-z0-9][a-z0-9-]*$/, { message: "use lower-case letters, digits and dashes" }),
            writers: z.number().int().min(0).max(16).default(1),
            readers: z
              .number()
              .int()
              .min(0)
              .max(16)
              .default(0)
              .describe("Readers beside the writers, on the same path (read-write from that host)"),
            rate: z.number().min(0).default(50),
            placement: z
              .strictObject({
                with: target,
                connect: z
                  .enum(["cluster", "local", "dns"])
                  .default("cluster")
                  .describe(
                    "cluster: every node, the first writable one (as a multi-host string); local: only the member it sits beside, as an application configured with localhost; dns: the name primary.<domain> (entrypoint: dns), resolved through the name service from that host",
                  ),
              })
              .describe("Run these writers inside that member's host (resolved when the run starts)"),
          }),
        )
        .default([])
        .describe(
          "Extra writer groups placed beside a member, e.g. an application server on the primary's host",
        ),
    })
    .default({
      kind: "ledger",
      writers: 2,
      rate: 50,
      timeout: "10s",
      readers: { primary: 0, replica: 0, rate: 50 },
      groups: [],
    }),
  entrypoint: z
    .union([z.enum(ENTRYPOINTS), z.array(z.enum(ENTRYPOINTS)).min(1)])
    .default("direct")
    .describe(
      "How writers reach the cluster; a list runs one writer group per entry point at once. direct: the harness's own read-write routing over the nodes; uri: the cluster's multi-host connection string (pg_auto_failover: its formation URI) through libpq, target_session_attrs=read-write; haproxy: HAProxy checking Patroni's REST /primary (patroni only); pgpool: Pgpool-II in streaming-replication mode (pg_auto_failover, repmgr); dns: the name primary.<domain>, which a poller re-points at the primary every dns.interval (as Data Services Manager does), resolved through a caching resolver that honours its TTL",
    ),
  dns: z
    .strictObject({
      interval: duration
        .default("5m")
        .describe(
          "How often the re-pointer asks the HA manager who the primary is and moves the name (Data Services Manager: 5m)",
        ),
      ttl: duration
        .default("30s")
        .describe("TTL of the record: how long resolvers keep the old answer after it moved (whole seconds)"),
    })
    .default({ interval: "5m", ttl: "30s" })
    .describe("The dns entry point's name service"),
  steps: z.array(step).min(1),
  expect: expectations.default({}),
  abort_if: abortRule.optional(),
});

export type ScenarioInput = z.input<typeof scenarioSchema>;
export type ScenarioDocument = z.output<typeof scenarioSchema>;
