import type { Outcome } from "../model/history.ts";

/**
 * What a failed INSERT tells us about its commit. A plain SQL error (read-only, constraint…) means
 * the transaction certainly rolled back. A lost connection, a timeout, or a server going down
 * (SQLSTATE class 08 connection exception, 57 operator intervention) may have come after the
 * commit reached the WAL — e.g. a backend terminated while waiting for a synchronous standby has
 * already committed locally — so the outcome is unknown, never fail. So are system errors (58) and
 * internal errors (XX): Pgpool reports a backend that died mid-commit as XX000 "unable to read data
 * from DB node", and the write had committed (found on the final primary).
 */
const AMBIGUOUS_CLASSES = ["08", "57", "58", "XX"];

export function classifyWriteError(error: unknown): Outcome {
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) {
    return AMBIGUOUS_CLASSES.some((prefix) => code.startsWith(prefix)) ? "unknown" : "fail";
  }
  return "unknown";
}
