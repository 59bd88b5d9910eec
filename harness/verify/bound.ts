import type { RtoBound, RtoBoundPart, RtoPhaseName } from "../model/figures.ts";

/**
 * The RTO a run's HA settings imply: the time the HA manager's own timers allow between a
 * primary failure and the promotion of its successor. It leaves out what no HA setting governs:
 * PostgreSQL's promotion itself and the clients' way back (reconnection, a synchronous standby
 * re-attaching); the RTO phases (phases.ts) show those beside it.
 */

/** A setting's value as an HA manager reads it (numbers, or numeric strings from YAML); null when not one. */
export function numeric(value: unknown): number | null {
  const n = typeof value === "number" ? value : typeof value === "string" ? Number(value.trim()) : Number.NaN;
  return Number.isFinite(n) && n >= 0 ? n : null;
}

export function section(
  settings: Readonly<Record<string, unknown>>,
  key: string,
): Record<string, unknown> | null {
  const value = settings[key];
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

/** Each key's value, its default when unset, or null when one is set to something that is not a number. */
export function read<K extends string>(
  values: Record<string, unknown>,
  defaults: Readonly<Record<K, number>>,
): Record<K, number> | null {
  const out = {} as Record<K, number>;
  for (const key of Object.keys(defaults) as K[]) {
    const n = values[key] === undefined ? defaults[key] : numeric(values[key]);
    if (n === null) return null;
    out[key] = n;
  }
  return out;
}

/** Rounded to the millisecond: settings in ms (pg_auto_failover) must not show float noise. */
function sum(parts: readonly RtoBoundPart[]): number {
  return Math.round(parts.reduce((total, part) => total + part.s, 0) * 1000) / 1000;
}

export function bound(parts: RtoBoundPart[], formula: string, note: string | null = null): RtoBound {
  const share = (phase: RtoPhaseName) => sum(parts.filter((part) => part.phase === phase));
  return {
    bound_s: sum(parts),
    parts,
    share_s: {
      detection: share("detection"),
      election: share("election"),
      reconnection: share("reconnection"),
    },
    formula,
    note,
  };
}

/** "patroni 3.0.2" → [3, 0, 2]; null when the text holds no version. */
export function versionOf(text: string | undefined): number[] | null {
  const match = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text ?? "");
  return match ? [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)] : null;
}

export function atLeast(version: number[], minimum: number[]): boolean {
  for (let i = 0; i < minimum.length; i++) {
    const [a, b] = [version[i] ?? 0, minimum[i] ?? 0];
    if (a !== b) return a > b;
  }
  return true;
}

/** An HA manager's pure rules, as verify applies them (each topology/<name>/rules.ts). */
export interface HaRules {
  /**
   * The RTO the run's HA settings imply (RunRecord.settings, as the topology's settings() reports
   * them, and the versions it ran); null when it cannot be derived (no settings recorded, a
   * setting that is not a number).
   */
  bound(
    settings: Readonly<Record<string, unknown>>,
    versions: Readonly<Record<string, string>>,
  ): RtoBound | null;
  /**
   * What the HA manager records (the `ha` events of its own log or history, its client's
   * haEvents()) when it reacts to a failed primary: the end of detection (phases.ts).
   */
  reactions: readonly RegExp[];
}

/**
 * The bound of a run under its HA manager's rules; null for an HA manager this version does not
 * know (rules null, e.g. an older record) or one the rules cannot derive.
 */
export function expectedRtoBound(
  rules: HaRules | null,
  settings: Readonly<Record<string, unknown>>,
  versions: Readonly<Record<string, string>> = {},
): RtoBound | null {
  return rules ? rules.bound(settings, versions) : null;
}
