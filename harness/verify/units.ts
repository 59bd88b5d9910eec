/** Time conversions and the wording verify uses for times in problems and evidence. */

export const NS_PER_SECOND = 1_000_000_000;

export function nsToSeconds(ns: number): number {
  return ns / NS_PER_SECOND;
}

/** A duration in evidence text, fixed to milliseconds so windows line up: "1.240 s". */
export function formatDuration(ns: number): string {
  return `${nsToSeconds(ns).toFixed(3)} s`;
}

/** An instant since the run started, without trailing zeros: "12.3 s". */
export function formatInstant(ns: number): string {
  return `${Number(nsToSeconds(ns).toFixed(3))} s`;
}
