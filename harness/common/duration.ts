const UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** "500ms", "3s", "1.5s", "2m" → milliseconds; undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text.trim());
  if (!match?.[1] || !match[2]) return undefined;
  const unit = UNITS_MS[match[2]];
  return unit === undefined ? undefined : Number(match[1]) * unit;
}
