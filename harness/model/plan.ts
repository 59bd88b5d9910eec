/**
 * plan.json's vocabulary: the plan as planned, which reporters read and run/ writes (run/plan-file.ts).
 */

import type { SweepValue } from "./scenario.ts";

export interface Shard {
  index: number;
  count: number;
}

export interface PlanFileRun {
  key: string;
  group: string;
  dir: string;
  scenario: string;
  topology: string;
  backend: string;
  stack: string;
  image: string | null;
  point: Record<string, SweepValue>;
  repeat: number;
  seed: number;
}

export interface PlanFileGroup {
  group: string;
  scenario: string;
  topology: string;
  point: Record<string, SweepValue>;
  /** The expectations over repeats that judge this group (the scenario's, then a suite's thresholds). */
  expect: Record<string, string | number | boolean>;
}

export interface PlanFile {
  plan_id: string;
  seed: number;
  repeat: number;
  /** The shard this directory holds; null: the whole plan. */
  shard: Shard | null;
  /** Set by `pgchaos certify`: the suite's name, file and thresholds. */
  suite: SuiteInfo | null;
  runs: PlanFileRun[];
  groups: PlanFileGroup[];
}

export interface SuiteInfo {
  name: string;
  file: string;
  description: string;
  thresholds: Record<string, string | number | boolean>;
}
