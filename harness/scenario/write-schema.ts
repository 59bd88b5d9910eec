import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { scenarioSchema } from "./schema.ts";

/** Writes scenarios/schema.json from the zod schema, so editors autocomplete scenario files. */
export function scenarioJsonSchema(): string {
  const schema = z.toJSONSchema(scenarioSchema, { io: "input", unrepresentable: "any" });
  return `${JSON.stringify({ ...schema, title: "pgchaos scenario v1" }, null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const target = fileURLToPath(new URL("../../scenarios/schema.json", import.meta.url));
  writeFileSync(target, scenarioJsonSchema());
  console.log(`wrote ${target}`);
}
