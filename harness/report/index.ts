import { mkdir } from "node:fs/promises";
import { ednReporter } from "./edn-reporter.ts";
import { htmlReporter } from "./html.ts";
import { jsonReporter } from "./json.ts";
import type { Reporter, RunReport } from "./reporter.ts";

export { escapeHtml, htmlReporter, renderHtml } from "./html.ts";
export { jsonReporter, type ResultJson, type TimelineEntry, toResultJson } from "./json.ts";
export { renderJunit } from "./junit.ts";
export { fromResultJson, loadRunReport } from "./load.ts";
export { type InvocationRun, renderIndex, toSummaryJson, writeInvocationReports } from "./suite.ts";
export type { Reporter, RunReport } from "./reporter.ts";
export { formatSummary, formatVerdict, type TerminalOptions, useColor } from "./terminal.ts";

/** The reporters every run writes. */
export const reporters: Reporter[] = [jsonReporter, ednReporter, htmlReporter];

/**
 * Creates `dir` and runs every reporter, returning all paths written. A failing reporter does not
 * stop the others (result.json matters even if the HTML breaks); failures are thrown together after.
 */
export async function writeReports(
  report: RunReport,
  dir: string,
  list: Reporter[] = reporters,
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const paths: string[] = [];
  const errors: unknown[] = [];
  for (const reporter of list) {
    try {
      paths.push(...(await reporter.write(report, dir)));
    } catch (err) {
      errors.push(new Error(`reporter ${reporter.name} failed: ${String(err)}`, { cause: err }));
    }
  }
  if (errors.length > 0) {
    throw new AggregateError(
      errors,
      `${errors.length} reporter(s) failed; wrote ${paths.join(", ") || "nothing"}`,
    );
  }
  return paths;
}
