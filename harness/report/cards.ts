import type { Figures } from "../model/figures.ts";
import { FIGURES, type ScalarFigure, formatFigure } from "../verify/catalogue.ts";
import { escapeHtml as esc } from "./escape.ts";

/** A figure card of the HTML report: what every section with figures draws. */
export type Tone = "" | "bad" | "warn";

export interface Card {
  figure: string;
  label: string;
  /** The raw value from the verification, for machines (and the tests) to compare. */
  raw: number | boolean | null | undefined;
  value: string;
  sub: string;
  tone?: Tone;
  /** What the figure means, shown on hover. */
  help: string;
}

export function card(c: Card): string {
  const absent = c.raw === undefined || c.raw === null;
  const data = c.raw === undefined ? "" : ` data-value="${esc(String(c.raw))}"`;
  return `<div class="card${c.tone ? ` ${c.tone}` : ""}" data-figure="${esc(c.figure)}"${data} title="${esc(c.help)}"><div class="label">${esc(c.label)}</div><div class="value${absent ? " absent" : ""}">${esc(c.value)}</div><div class="sub">${esc(c.sub)}</div></div>`;
}

/** A figure's card: label, value and help from the catalogue; the sub-line and tone are the page's. */
export function figureCard<K extends ScalarFigure>(
  f: Figures,
  key: K,
  sub: string,
  tone: Tone = "",
  value = formatFigure(key, f),
): Card {
  const { label, help } = FIGURES[key];
  return { figure: key, label, raw: f[key], value, sub, tone, help };
}

/**
 * Cards over one run's figures: an unmeasured figure keeps its "—" and says why on its sub-line
 * (verify's reason), never a zero and never the line a measured value would have.
 */
export function figureCards(f: Figures, unknown: Partial<Record<ScalarFigure, string>>) {
  return <K extends ScalarFigure>(key: K, sub: string, tone: Tone = "", value?: string): Card => {
    const why = f[key] === null ? unknown[key] : undefined;
    return why ? figureCard(f, key, `unknown: ${why}`, "warn") : figureCard(f, key, sub, tone, value);
  };
}

/** Worse than zero, or not known: both are marked. */
export function notZero(value: number | null): boolean {
  return value === null || value > 0;
}
