import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { clusterSchema } from "../attach/cluster-file.ts";
import { scenarioSchema } from "./schema.ts";
import { suiteSchema } from "./suite.ts";

/** scenarios/schema.json from the zod schema, so editors autocomplete scenario files. */
export function scenarioJsonSchema(): string {
  const schema = z.toJSONSchema(scenarioSchema, { io: "input", unrepresentable: "any" });
  return `${JSON.stringify({ ...schema, title: "pgchaos scenario v1" }, null, 2)}\n`;
}

/** scenarios/suite.schema.json: the same for certification suites. */
export function suiteJsonSchema(): string {
  const schema = z.toJSONSchema(suiteSchema, { io: "input", unrepresentable: "any" });
  return `${JSON.stringify({ ...schema, title: "pgchaos certification suite v1" }, null, 2)}\n`;
}

/** scenarios/cluster.schema.json: the same for cluster files (a cluster pgchaos did not start). */
export function clusterJsonSchema(): string {
  const schema = z.toJSONSchema(clusterSchema, { io: "input", unrepresentable: "any" });
  return `${JSON.stringify({ ...schema, title: "pgchaos cluster file v1" }, null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const [file, text] of [
    ["schema.json", scenarioJsonSchema()],
    ["suite.schema.json", suiteJsonSchema()],
    ["cluster.schema.json", clusterJsonSchema()],
  ] as const) {
    const target = fileURLToPath(new URL(`../../scenarios/${file}`, import.meta.url));
    writeFileSync(target, text);
    console.log(`wrote ${target}`);
  }
}
