import type { RunRecord } from "../run/record.ts";
import type { Verification } from "../verify/figures.ts";

/** The one result every reporter renders: what the run observed and what verify made of it. */
export interface RunReport {
  record: RunRecord;
  verification: Verification;
}

/** A plug-in output format (like Playwright's reporters). */
export interface Reporter {
  name: string;
  /** Writes its files into `dir` (which may not exist yet) and returns the paths written. */
  write(report: RunReport, dir: string): Promise<string[]>;
}
