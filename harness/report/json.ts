import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  CLIENT_FIGURES,
  type ClientFigure,
  type ClientFigures,
  type ExpectationResult,
  type Figures,
  type NameServiceFigure,
  type Outage,
  type Promotion,
  type SplitBrainInterval,
  type Verification,
} from "../model/figures.ts";
import type { ListAppendCheck, NameServiceCheck, ReadCheck } from "../model/figures.ts";
import type { ReadOperation, WriteOperation } from "../model/history.ts";
import type { Stack } from "../model/record.ts";
import type { Member, RunRecord } from "../model/record.ts";
import type { TimelineEvent } from "../model/timeline.ts";

import { nsToS, round3 } from "./format.ts";
import { maskSettings, maskText } from "./redact.ts";
import type { Reporter, RunReport } from "./reporter.ts";

/**
 * The figures result.json carries: the contract's ten. Figures that verify grows later (e.g. the
 * per-writer-group figures) are only added here deliberately, never by accident.
 */
export type ContractFigures = Pick<
  Figures,
  | "rto_s"
  | "max_write_gap_s"
  | "lost_writes"
  | "unknown_writes"
  | "acknowledged_writes"
  | "failed_writes"
  | "wal_loss_bytes"
  | "promotions"
  | "split_brain"
  | "split_brain_window_s"
  | "diverged"
  | ClientFigure
  | "write_blocked_s"
  | "old_primary_rejoin_s"
  | NameServiceFigure
  | "groups"
>;

/** A timeline event as result.json shows it: the record's event plus seconds for humans. */
export type TimelineEntry = TimelineEvent & { at_s: number };

/**
 * The result.json contract. CI consumers parse it, so keys are only ever added here deliberately
 * (and tested): renaming or removing one is a breaking change.
 */
export interface ResultJson {
  run_id: string;
  scenario: string;
  topology: string;
  backend: string;
  /** What ran in the members: stack name, PostgreSQL's bin directory, and on Docker the image with its id. */
  stack: Stack;
  verdict: "pass" | "fail";
  started_at: string;
  duration_s: number;
  versions: Record<string, string>;
  /** Secret-looking values are masked. */
  settings: Record<string, unknown>;
  members: Member[];
  /** Writer groups that are ways into the cluster; figures.rto_s and max_write_gap_s are their worst. */
  entrypoints: string[];
  figures: ContractFigures;
  expectations: ExpectationResult[];
  promotions: Promotion[];
  split_brain_evidence: string[];
  timeline: TimelineEntry[];
  lost_write_ids: number[];
  unknown_write_ids: number[];
  /** Problems of the run itself followed by checks verify could not make; either fails the run. */
  problems: string[];
  final: RunRecord["final"];
  /** RTO of each injected fault, with when writes became impossible (added in v0.1). */
  rto_per_fault: Verification["rto_per_fault"];
  /** Unknown writes found on the final primary: they committed after all (added in v0.1). */
  unknown_found_ids: number[];
  /** The RTO the HA settings imply, with its parts and formula; null when not derivable (added in v0.2). */
  rto_bound: Verification["rto_bound"];
  /** Per fault and entry point, when writes were impossible; end_ns null: never recovered (added in v0.1). */
  outages: Outage[];
  /** Where the split-brain evidence places two writable members, per pair and source (added in v0.1). */
  split_brain_intervals: SplitBrainInterval[];
  /** The scenario's description and its source as written, secrets masked; null when not known. */
  scenario_description: string | null;
  scenario_source: string | null;
  /** The run's seed: `--seed <plan.plan_seed> --only <plan.key>` replays it (added in v0.2). */
  seed: number;
  /** Where the run sits in its plan (key, group, repeat, sweep point); null outside a plan. */
  plan: RunRecord["plan"];
  /** Runs made at once by the plan; above 1 the cluster shared the machine. */
  concurrency: number;
  /** The harness's own cost: backend and cluster start, teardown, CPU. */
  harness: RunRecord["harness"];
  /** Two members sampled writable at once: each window and pair (added in v0.3). */
  dual_primary_evidence: string[];
  dual_primary_intervals: SplitBrainInterval[];
  /** Every offending read (stale, of lost data, non-monotonic) and the per-path read figures (added in v0.3). */
  reads: Omit<ReadCheck, "problems">;
  /** The list-append checker's anomalies with their cycles; null for the ledger workload (added in v0.3). */
  transactions: ListAppendCheck | null;
  /** The dns entry point's name, repointings and stale-name writes; null without one (added in v0.4). */
  name_service: NameServiceCheck | null;
  /** Why each null figure was not measured (added in v0.5). */
  unknown: Verification["unknown"];
  /** WAL loss per promotion, measured or why not (added in v0.5). */
  wal_loss: Verification["wal_loss"];
  /** Both sides of a run that ended with two writable nodes; null when it did not (added in v0.5). */
  divergence: Verification["divergence"];
  /** Why acknowledged writes were lost, with the events it rests on; null when none were (added in v0.5). */
  explanation: Verification["explanation"];
  /** Each client path's RTO beside its own bound (added in v0.5). */
  paths: Verification["paths"];
}

/** Picks the figures explicitly so a field added to Figures does not silently widen the contract. */
function contractFigures(f: Figures): ContractFigures {
  return {
    rto_s: f.rto_s,
    max_write_gap_s: f.max_write_gap_s,
    lost_writes: f.lost_writes,
    unknown_writes: f.unknown_writes,
    acknowledged_writes: f.acknowledged_writes,
    failed_writes: f.failed_writes,
    wal_loss_bytes: f.wal_loss_bytes,
    promotions: f.promotions,
    split_brain: f.split_brain,
    split_brain_window_s: f.split_brain_window_s,
    diverged: f.diverged,
    ...pickClientFigures(f),
    write_blocked_s: f.write_blocked_s,
    old_primary_rejoin_s: f.old_primary_rejoin_s,
    repoint_delay_s: f.repoint_delay_s,
    stale_name_writes: f.stale_name_writes,
    stale_name_refused_writes: f.stale_name_refused_writes,
    // Per writer group (entry points, placements): the downtime each path into the cluster gave.
    groups: f.groups,
  };
}

function pickClientFigures(f: Figures): ClientFigures {
  return Object.fromEntries(CLIENT_FIGURES.map((key) => [key, f[key]])) as ClientFigures;
}

function withSeconds(e: TimelineEvent): TimelineEntry {
  // at_s goes right after at_ns so the two read together in the file.
  const { at_ns, ...rest } = e;
  return { at_ns, at_s: round3(nsToS(at_ns)), ...rest };
}

/** Both sources of problems, each reported once; masked, as they may quote a connection string. */
export function allProblems(report: RunReport): string[] {
  return [...new Set([...report.record.problems, ...report.verification.problems])].map(maskText);
}

export function toResultJson(report: RunReport): ResultJson {
  const { record: r, verification: v } = report;
  return {
    run_id: r.run_id,
    scenario: r.scenario,
    topology: r.topology,
    backend: r.backend,
    stack: { ...r.stack },
    verdict: v.verdict,
    started_at: r.started_at,
    duration_s: r.duration_s,
    versions: { ...r.versions },
    settings: maskSettings(r.settings),
    members: r.members.map((m) => ({ ...m })),
    entrypoints: [...r.entrypoints],
    figures: contractFigures(v.figures),
    expectations: v.expectations.map((e) => ({ ...e })),
    promotions: v.promotions.map((p) => ({ ...p })),
    split_brain_evidence: [...v.split_brain.evidence],
    timeline: r.timeline.map(withSeconds),
    lost_write_ids: [...v.lost_write_ids],
    unknown_write_ids: [...v.unknown_write_ids],
    problems: allProblems(report),
    final: {
      primary: r.final.primary,
      ids: r.final.ids === null ? null : [...r.final.ids],
      nodes: r.final.nodes.map((n) => ({ ...n })),
      ...(r.final.sides ? { sides: r.final.sides.map((side) => ({ ...side })) } : {}),
      ...(r.final.histories ? { histories: r.final.histories.map((h) => ({ ...h })) } : {}),
    },
    rto_per_fault: v.rto_per_fault.map((x) => ({ ...x })),
    unknown_found_ids: [...v.unknown_found_ids],
    rto_bound:
      v.rto_bound === null
        ? null
        : {
            ...v.rto_bound,
            parts: v.rto_bound.parts.map((p) => ({ ...p })),
            share_s: { ...v.rto_bound.share_s },
          },
    outages: v.outages.map((o) => ({ ...o })),
    split_brain_intervals: v.split_brain.intervals.map((i) => ({ ...i, members: [...i.members] })),
    scenario_description: report.scenarioDescription || null,
    scenario_source: report.scenarioSource === undefined ? null : maskText(report.scenarioSource),
    seed: r.seed,
    plan: r.plan === null ? null : { ...r.plan, point: { ...r.plan.point } },
    concurrency: r.concurrency,
    harness: r.harness === null ? null : { ...r.harness },
    dual_primary_evidence: [...v.dual_primary.evidence],
    dual_primary_intervals: v.dual_primary.intervals.map((i) => ({ ...i, members: [...i.members] })),
    reads: readsJson(v.reads),
    transactions: v.transactions,
    name_service: v.name_service,
    unknown: { ...v.unknown },
    wal_loss: v.wal_loss.map((detail) => ({ ...detail })),
    divergence: v.divergence,
    explanation: v.explanation,
    paths: v.paths.map((path) => ({ ...path })),
  };
}

/** The read check without its problems: those are in `problems` with every other one. */
function readsJson({ problems: _problems, ...check }: ReadCheck): Omit<ReadCheck, "problems"> {
  return check;
}

/** One operation per line: still valid JSON, but diffable and far smaller than indented output. */
export function historyJson(history: readonly (WriteOperation | ReadOperation)[]): string {
  if (history.length === 0) return "[]\n";
  return `[\n${history.map((op) => JSON.stringify(op)).join(",\n")}\n]\n`;
}

export const jsonReporter: Reporter = {
  name: "json",
  async write(report, dir) {
    await mkdir(dir, { recursive: true });
    const result = join(dir, "result.json");
    const history = join(dir, "history.json");
    await writeFile(result, `${JSON.stringify(toResultJson(report), null, 2)}\n`);
    await writeFile(history, historyJson(report.record.history));
    if (report.record.reads.length === 0) return [result, history];
    const reads = join(dir, "reads.json");
    await writeFile(reads, historyJson(report.record.reads));
    return [result, history, reads];
  },
};
