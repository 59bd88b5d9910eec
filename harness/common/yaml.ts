/** YAML files checked against a zod schema, with errors that point at the line: scenarios, suites, cluster files. */

import { readFileSync } from "node:fs";
import { LineCounter, type Node, isMap, isScalar, parseDocument } from "yaml";
import type { z } from "zod";
import { UsageError } from "./errors.ts";

/** A file's text, or a one-line error naming it. */
export function readSource(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new UsageError(`${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
}

/**
 * YAML checked against a schema: the first problem as `file:line:col: key: message`. The document
 * and line counter come back too, for checks the schema cannot make.
 */
export function parseYaml<Schema extends z.ZodType>(schema: Schema, source: string, file: string) {
  const lineCounter = new LineCounter();
  const document = parseDocument(source, { lineCounter, prettyErrors: false });
  const yamlError = document.errors[0];
  if (yamlError) {
    const pos = lineCounter.linePos(yamlError.pos[0]);
    throw new UsageError(`${file}:${pos.line}:${pos.col}: ${yamlError.message.split("\n")[0]}`);
  }
  const parsed = schema.safeParse(document.toJS());
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as z.core.$ZodIssue;
    throw new UsageError(`${file}:${locate(document.contents, issue, lineCounter)}: ${describeIssue(issue)}`);
  }
  return { doc: parsed.data as z.output<Schema>, document, lineCounter };
}

export function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
  const where = path.replace(/^\./, "") || "(top level)";
  if (issue.code === "unrecognized_keys") {
    return `${where}: unknown key ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
  }
  if (issue.code === "invalid_type" && issue.message.includes("received undefined")) {
    return `${where}: missing`;
  }
  return `${where}: ${issue.message}`;
}

/** line:column of the YAML node an issue points at (the unknown key itself for unrecognized_keys). */
export function locate(
  root: unknown,
  issue: { path: PropertyKey[]; code?: string; keys?: string[] },
  lineCounter: LineCounter,
): string {
  let node: unknown = root;
  let found: Node | undefined = isNode(root) ? root : undefined;
  for (const key of issue.path) {
    if (!node || typeof node !== "object" || !("get" in node)) break;
    const next = (node as { get(k: unknown, keepScalar: boolean): unknown }).get(key, true);
    if (!isNode(next)) break;
    node = next;
    found = next;
  }
  if (issue.code === "unrecognized_keys" && isMap(node) && issue.keys?.[0]) {
    const pair = node.items.find((item) => isScalar(item.key) && item.key.value === issue.keys?.[0]);
    if (pair && isNode(pair.key)) found = pair.key;
  }
  const offset = found?.range?.[0] ?? 0;
  const pos = lineCounter.linePos(offset);
  return `${pos.line}:${pos.col}`;
}

function isNode(value: unknown): value is Node {
  return typeof value === "object" && value !== null && "range" in value;
}
