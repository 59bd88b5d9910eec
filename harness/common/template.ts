import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Absolute path of a file under fixtures/. */
export function fixturePath(relative: string): string {
  return fileURLToPath(new URL(`../../fixtures/${relative}`, import.meta.url));
}

/** Fills {{name}} placeholders; a placeholder without a value is a bug, so it throws. */
export function renderTemplate(text: string, values: Record<string, string | number>): string {
  return text.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`template placeholder {{${key}}} has no value`);
    return String(value);
  });
}

export function renderFixture(relative: string, values: Record<string, string | number>): string {
  return renderTemplate(readFileSync(fixturePath(relative), "utf8"), values);
}
