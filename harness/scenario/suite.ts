/**
 * A certification suite (`pgchaos certify <suite.yaml>`): which scenarios, on which topologies
 * and stacks, how many times, and the thresholds each scenario × topology must hold over its
 * repeats. Scenario paths are relative to the suite file.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseDocument } from "yaml";
import { z } from "zod";
import { parseYaml, readSource } from "../common/yaml.ts";
import { PROVISIONING_BACKENDS, STACKS, TOPOLOGIES } from "../model/scenario.ts";
import { isAggregateKey, parseAggregateExpectation } from "../verify/aggregate.ts";

export const suiteSchema = z.strictObject({
  $schema: z.string().optional(),
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { message: "use lower-case letters, digits and dashes" }),
  description: z.string().optional(),
  scenarios: z.array(z.string()).min(1).describe("Scenario files, relative to this suite"),
  topologies: z
    .array(z.enum(TOPOLOGIES))
    .min(1)
    .optional()
    .describe("Only these of each scenario's topologies; default: all a scenario lists"),
  backend: z.enum(PROVISIONING_BACKENDS).optional(),
  stacks: z.array(z.enum(STACKS)).min(1).optional().describe("docker: run every scenario on each stack"),
  repeat: z.number().int().min(1).max(1000).default(1),
  seed: z.number().int().min(0).max(4294967295).optional().describe("Default: a fresh one, printed"),
  thresholds: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
    .superRefine((record, ctx) => {
      for (const [key, raw] of Object.entries(record)) {
        try {
          if (!isAggregateKey(key))
            throw new Error(
              `${key} is not an expectation over repeats (e.g. rto_p95, lost_writes_runs, split_brain_rate, failed_runs, pass_rate)`,
            );
          parseAggregateExpectation(key, raw);
        } catch (error) {
          ctx.addIssue({ code: "custom", path: [key], message: (error as Error).message });
        }
      }
    })
    .default({ failed_runs: 0 })
    .describe("Held by every scenario × topology over its repeats; certified only if all hold"),
});

export interface Suite {
  file: string;
  source: string;
  name: string;
  description: string;
  /** Absolute paths. */
  scenarios: string[];
  topologies: (typeof TOPOLOGIES)[number][] | null;
  backend: (typeof PROVISIONING_BACKENDS)[number] | null;
  stacks: (typeof STACKS)[number][] | null;
  repeat: number;
  seed: number | null;
  thresholds: Record<string, string | number | boolean>;
}

/** A suite names scenarios; a scenario has steps. Lets `validate` take either. */
export function isSuiteFile(file: string): boolean {
  try {
    const doc: unknown = parseDocument(readFileSync(file, "utf8")).toJS();
    return typeof doc === "object" && doc !== null && "scenarios" in doc && !("steps" in doc);
  } catch {
    return false;
  }
}

export function loadSuite(file: string): Suite {
  const source = readSource(file);
  const { doc } = parseYaml(suiteSchema, source, file);
  return {
    file,
    source,
    name: doc.name,
    description: doc.description ?? "",
    scenarios: doc.scenarios.map((path) => resolve(dirname(file), path)),
    topologies: doc.topologies ?? null,
    backend: doc.backend ?? null,
    stacks: doc.stacks ?? null,
    repeat: doc.repeat,
    seed: doc.seed ?? null,
    thresholds: doc.thresholds,
  };
}
