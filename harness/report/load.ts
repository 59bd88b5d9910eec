/**
 * Reads a run back from its result.json and history.json, so reports can be re-rendered from
 * recorded results (the tests do; so could a future `pgchaos report`). Older result files lack
 * the keys added since: those parts are derived from the history with verify's own functions.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ClientFigure, Figures, NameServiceFigure, Promotion, Verification } from "../model/figures.ts";
import type { RtoPhases } from "../model/figures.ts";
import type { ReadOperation, WriteOperation } from "../model/history.ts";
import type { RunRecord } from "../model/record.ts";
import type { TimelineEvent } from "../model/timeline.ts";
import { haRulesOf } from "../topology/index.ts";
import { expectedRtoBound } from "../verify/bound.ts";
import { clientFigures, unknownReasons } from "../verify/index.ts";
import { nameServiceFigures } from "../verify/name-service.ts";
import { rtoPhases } from "../verify/phases.ts";
import { checkReads } from "../verify/reads.ts";
import { mergeOutages, outagesPerFault, rtoPerFault } from "../verify/rto.ts";
import { detectDualPrimary, detectSplitBrain } from "../verify/split-brain.ts";
import type { ResultJson } from "./json.ts";
import type { RunReport } from "./reporter.ts";

const REQUIRED: (keyof ResultJson)[] = [
  "run_id",
  "scenario",
  "topology",
  "verdict",
  "figures",
  "expectations",
  "timeline",
  "lost_write_ids",
  "members",
  "final",
];

/** Newer keys are optional here: result files written before they existed still load. */
/** Keys added after the first result.json: older files lack them. */
type AddedLater =
  | "rto_per_fault"
  | "unknown_found_ids"
  | "scenario_description"
  | "scenario_source"
  | "entrypoints"
  | "outages"
  | "split_brain_intervals"
  | "seed"
  | "plan"
  | "concurrency"
  | "harness"
  | "rto_bound"
  | "dual_primary_evidence"
  | "dual_primary_intervals"
  | "reads"
  | "transactions"
  | "name_service"
  | "unknown"
  | "wal_loss"
  | "divergence"
  | "explanation"
  | "paths";

/** Figures added with readers and the two kinds of split-brain, and with the dns entry point: older files lack them. */
type FiguresAddedLater = ClientFigure | NameServiceFigure | "diverged";

/** A promotion as stored: where its fork point came from, and why samples alone saw it, came later. */
type StoredPromotion = Omit<Promotion, "parent" | "fork_source" | "ha_fork_lsn" | "unrecorded"> &
  Partial<Pick<Promotion, "parent" | "fork_source" | "ha_fork_lsn" | "unrecorded">>;

/** The role sampler's name for a promotion the HA manager did not report (verify/promotions.ts). */
const SAMPLED = "role samples";

/**
 * Older files' promotions: their fork point was the HA manager's, the parent the timeline before;
 * a promotion only the samples saw says so without a reason, which was not recorded.
 */
function storedPromotion(p: StoredPromotion): Promotion {
  return {
    ...p,
    parent: p.parent ?? p.timeline - 1,
    fork_source: p.fork_source !== undefined ? p.fork_source : p.fork_lsn === null ? null : "ha manager",
    ha_fork_lsn: p.ha_fork_lsn !== undefined ? p.ha_fork_lsn : p.fork_lsn,
    unrecorded:
      p.unrecorded !== undefined
        ? p.unrecorded
        : p.source === SAMPLED
          ? "this result file predates recording why the HA manager's history lacked it"
          : null,
  };
}

/**
 * Why figures are null in a file written before reasons were stored (the same reasons verify
 * gives), and a WAL loss an older pgchaos summed as zero over a promotion it could not measure.
 */
function olderUnknowns(
  figures: Figures,
  promotions: readonly Promotion[],
  reads: readonly ReadOperation[],
): { unknown: Verification["unknown"]; wal_loss_bytes: number | null } {
  const reasons = unknownReasons(figures, reads.length > 0, null);
  const unmeasured = promotions.find((p) => p.fork_lsn === null);
  if (figures.wal_loss_bytes === 0 && unmeasured) {
    reasons.wal_loss_bytes = `the promotion of ${unmeasured.member} to timeline ${unmeasured.timeline} has no fork LSN (this older result counted it as 0)`;
    return { unknown: reasons, wal_loss_bytes: null };
  }
  return { unknown: reasons, wal_loss_bytes: figures.wal_loss_bytes };
}

/** A fault's RTO as stored: phases came after the RTO itself. */
type StoredFaultRto = Omit<ResultJson["rto_per_fault"][number], "phases"> & { phases?: RtoPhases | null };

export type StoredResult = Omit<ResultJson, AddedLater | "figures" | "promotions"> &
  Partial<Pick<ResultJson, Exclude<AddedLater, "rto_per_fault">>> & {
    rto_per_fault?: StoredFaultRto[];
    promotions?: StoredPromotion[];
    figures: Omit<ResultJson["figures"], FiguresAddedLater> &
      Partial<Pick<ResultJson["figures"], FiguresAddedLater>>;
  };

export function parseResultJson(text: string, file = "result.json"): StoredResult {
  const value: unknown = JSON.parse(text);
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new Error(`${file}: not a JSON object`);
  }
  const missing = REQUIRED.filter((key) => !Object.hasOwn(value, key));
  if (missing.length > 0) throw new Error(`${file}: missing ${missing.join(", ")}`);
  return value as StoredResult;
}

function withoutSeconds(entry: ResultJson["timeline"][number]): TimelineEvent {
  const { at_s: _seconds, ...event } = entry;
  return event as TimelineEvent;
}

/** Outages for a result written before they were stored, derived as verify would. */
function derivedOutages(record: RunRecord, beforeEntrypoints: boolean): Verification["outages"] {
  // Histories written before writer groups were recorded are all the one direct path.
  const opsOf = (group: string) =>
    beforeEntrypoints ? record.history : record.history.filter((op) => op.group === group);
  return mergeOutages(
    record.entrypoints.map((group) => outagesPerFault(group, opsOf(group), record.timeline)),
  );
}

export function fromResultJson(
  result: StoredResult,
  history: WriteOperation[],
  reads: ReadOperation[] = [],
): RunReport {
  const timeline = result.timeline.map(withoutSeconds);
  const record: RunRecord = {
    run_id: result.run_id,
    scenario: result.scenario,
    topology: result.topology,
    backend: result.backend ?? "",
    // Results written before stacks were recorded all ran Debian 12's packages on the local backend.
    stack: result.stack ?? { name: "bookworm", postgresBin: "/usr/lib/postgresql/15/bin", image: null },
    started_at: result.started_at ?? "",
    duration_s: result.duration_s ?? 0,
    versions: result.versions ?? {},
    settings: result.settings ?? {},
    members: result.members,
    history,
    reads,
    timeline,
    final: result.final,
    // Results written before entry points were recorded had the one direct group.
    entrypoints: result.entrypoints ?? ["direct"],
    // The promises as normalised text: the original spelling is not kept in result.json.
    expect: Object.fromEntries(result.expectations.map((e) => [e.key, e.expected])),
    problems: result.problems ?? [],
    // Results written before plans existed had no seed, plan, concurrency or cost.
    seed: result.seed ?? 0,
    plan: result.plan ?? null,
    concurrency: result.concurrency ?? 1,
    harness: result.harness ?? null,
  };
  const finalIds = result.final.ids === null ? null : new Set(result.final.ids);
  const unknownIds = result.unknown_write_ids ?? [];
  const outages = result.outages ?? derivedOutages(record, result.entrypoints === undefined);
  const perFault: StoredFaultRto[] = result.rto_per_fault ?? rtoPerFault(history, timeline);
  // Results written before phases and bounds: derived from the stored timeline as verify would.
  const promotions = (result.promotions ?? []).map(storedPromotion);
  const phases = rtoPhases(
    record.topology,
    haRulesOf(record.topology)?.reactions ?? [],
    timeline,
    perFault,
    outages,
    promotions,
  );
  // Results written before readers and the split of split-brain: derived as verify would.
  const dualPrimary =
    result.dual_primary_evidence === undefined || result.dual_primary_intervals === undefined
      ? detectDualPrimary(timeline)
      : {
          seconds: result.figures.dual_primary_s ?? 0,
          evidence: result.dual_primary_evidence,
          intervals: result.dual_primary_intervals,
        };
  const readCheck = result.reads
    ? { ...result.reads, problems: [] }
    : checkReads(history, reads, result.final.ids);
  const transactions = result.transactions ?? null;
  const nameService = result.name_service ?? null;
  const figures: Figures = {
    ...clientFigures(dualPrimary, readCheck, transactions),
    ...nameServiceFigures(nameService),
    ...result.figures,
    // Files written before the final state was read on every writable node: one was judged.
    diverged: result.figures.diverged ?? false,
    // Result files written before per-group figures existed have none.
    groups: result.figures.groups ?? {},
  };
  const older = result.unknown === undefined ? olderUnknowns(figures, promotions, reads) : null;
  if (older) figures.wal_loss_bytes = older.wal_loss_bytes;
  const report: RunReport = {
    record,
    verification: {
      verdict: result.verdict,
      figures,
      unknown: result.unknown ?? older?.unknown ?? {},
      wal_loss: result.wal_loss ?? [],
      divergence: result.divergence ?? null,
      explanation: result.explanation ?? null,
      paths: result.paths ?? [],
      expectations: result.expectations,
      lost_write_ids: result.lost_write_ids,
      unknown_write_ids: unknownIds,
      unknown_found_ids:
        result.unknown_found_ids ?? (finalIds === null ? [] : unknownIds.filter((id) => finalIds.has(id))),
      promotions,
      split_brain: {
        detected: result.figures.split_brain,
        window_s: result.figures.split_brain_window_s,
        evidence: result.split_brain_evidence ?? [],
        intervals: result.split_brain_intervals ?? detectSplitBrain(history, timeline).intervals,
      },
      dual_primary: dualPrimary,
      reads: readCheck,
      transactions,
      name_service: nameService,
      rto_per_fault: perFault.map((fault, index) => ({
        ...fault,
        phases: fault.phases === undefined ? (phases[index] ?? null) : fault.phases,
      })),
      rto_bound:
        result.rto_bound === undefined
          ? expectedRtoBound(haRulesOf(record.topology), record.settings, record.versions)
          : result.rto_bound,
      outages,
      // Already merged into the record's problems by toResultJson.
      problems: [],
    },
  };
  if (result.scenario_source) report.scenarioSource = result.scenario_source;
  if (result.scenario_description) report.scenarioDescription = result.scenario_description;
  return report;
}

/** Loads `<dir>/result.json`, `history.json` and `reads.json` (an absent history reads as empty). */
export async function loadRunReport(dir: string): Promise<RunReport> {
  const file = join(dir, "result.json");
  const result = parseResultJson(await readFile(file, "utf8"), file);
  const history = await readOptionalJson<WriteOperation[]>(join(dir, "history.json"));
  const reads = await readOptionalJson<ReadOperation[]>(join(dir, "reads.json"));
  return fromResultJson(result, history, reads);
}

async function readOptionalJson<T extends unknown[]>(file: string): Promise<T> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    return [] as unknown[] as T;
  }
}
