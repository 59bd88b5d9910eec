import type { RunRecord } from "../run/record.ts";
import type { Verification } from "../verify/figures.ts";

/** The one result every reporter renders: what the run observed and what verify made of it. */
export interface RunReport {
  record: RunRecord;
  verification: Verification;
  /** The scenario file as written; the CLI knows it, the RunRecord does not. Masked before display. */
  scenarioSource?: string;
  /** The scenario's one-line `description:`, shown under its name. */
  scenarioDescription?: string;
}

/** A plug-in output format (like Playwright's reporters). */
export interface Reporter {
  name: string;
  /** Writes its files into `dir` (which may not exist yet) and returns the paths written. */
  write(report: RunReport, dir: string): Promise<string[]>;
}
