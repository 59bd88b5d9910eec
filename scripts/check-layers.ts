/**
 * The house rule of harness/: imports go one way. Each folder sits on a floor; a file may import
 * its own folder, and folders on lower floors, never a higher floor — and no file may reach itself
 * through its imports (a circle). Type-only imports count: a shared type living in the folder that
 * happened to use it first is exactly how a house starts leaning. Tests may import anything.
 *
 *   tsx scripts/check-layers.ts            prints violations, exit 1 if any (npm run check runs it)
 *   tsx scripts/check-layers.ts --graph    also prints the folder-to-folder import counts
 *
 * A regular expression over `import … from`, `export … from`, `import "…"` and `import("…")` is enough here:
 * biome formats every file, so specifiers are always one double-quoted string.
 */

import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Lowest first. Folders on one floor may import each other, but not in a circle.
 * - model: the vocabulary (record, timeline, history, figures, scenario, cluster, plan); imports nothing.
 * - agent: the process inside a member and its wire protocol, below backend, which starts it;
 *   the harness's side of it (run/agent.ts) drives a backend's member, so it lives in run/.
 * - report below run: the runner calls the reporters (Playwright's model), never the other way.
 */
export const FLOORS: readonly (readonly string[])[] = [
  ["common"],
  ["model"],
  ["workload", "observe", "verify"],
  ["agent"],
  ["backend"],
  ["topology"],
  ["faults", "entrypoints", "attach"],
  ["scenario"],
  ["report"],
  ["run"],
  ["(cli)"],
];

const SPECIFIER = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)"(\.{1,2}\/[^"]+)"/g;

export interface Violation {
  file: string;
  imports: string;
  why: string;
}

/** The folder of a file under harness/: "verify" for harness/verify/index.ts, "(cli)" for harness/cli.ts. */
export function folderOf(file: string): string {
  const parts = file.split("/");
  return parts.length > 1 ? (parts[0] as string) : "(cli)";
}

export function floorOf(folder: string): number {
  return FLOORS.findIndex((floor) => floor.includes(folder));
}

/** Every harness file's relative imports, as harness-relative paths. */
export function importGraph(root: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const files = readdirSync(root, { recursive: true, encoding: "utf8" }).filter(
    (f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && !f.endsWith(".d.ts"),
  );
  for (const file of files) {
    const text = readFileSync(join(root, file), "utf8");
    const targets = [...text.matchAll(SPECIFIER)].map((m) => normalize(join(dirname(file), m[1] as string)));
    graph.set(file, targets);
  }
  return graph;
}

/** Upward imports and unknown folders, then every circle (each reported once, from its first file). */
export function violations(graph: ReadonlyMap<string, readonly string[]>): Violation[] {
  const found: Violation[] = [];
  for (const [file, targets] of graph) {
    const from = folderOf(file);
    const fromFloor = floorOf(from);
    if (fromFloor < 0)
      found.push({ file, imports: "", why: `folder ${from} is on no floor (scripts/check-layers.ts)` });
    for (const target of targets) {
      const to = folderOf(target);
      const toFloor = floorOf(to);
      if (to === from || toFloor < 0 || fromFloor < 0) continue;
      if (toFloor > fromFloor) found.push({ file, imports: target, why: `${from} is below ${to}` });
    }
  }
  for (const circle of circles(graph)) {
    found.push({
      file: circle[0] as string,
      imports: circle[1] as string,
      why: `circle: ${circle.join(" → ")}`,
    });
  }
  return found;
}

/** Strongly connected files (Tarjan), each circle given as a path from its first file back to it. */
export function circles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let index = 0;
  const indexes = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (node: string): void => {
    indexes.set(node, index);
    low.set(node, index);
    index += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (!indexes.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) as number, low.get(next) as number));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) as number, indexes.get(next) as number));
      }
    }
    if (low.get(node) === indexes.get(node)) {
      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      const selfLoop = (graph.get(node) ?? []).includes(node);
      if (component.length > 1 || selfLoop) components.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!indexes.has(node)) visit(node);
  return components.map((component) => pathWithin(graph, component));
}

/** A shortest walk from the component's first file back to itself, inside the component. */
function pathWithin(graph: ReadonlyMap<string, readonly string[]>, component: string[]): string[] {
  const inside = new Set(component);
  const start = component[0] as string;
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift() as string;
    for (const next of graph.get(node) ?? []) {
      if (!inside.has(next)) continue;
      if (next === start) {
        const path = [start];
        for (let at: string | undefined = node; at !== undefined && at !== start; at = previous.get(at)) {
          path.splice(1, 0, at);
        }
        return [...path, start];
      }
      if (!previous.has(next)) {
        previous.set(next, node);
        queue.push(next);
      }
    }
  }
  return [...component, start];
}

function main(): void {
  const root = fileURLToPath(new URL("../harness", import.meta.url));
  const graph = importGraph(root);
  if (process.argv.includes("--graph")) {
    const counts = new Map<string, number>();
    for (const [file, targets] of graph) {
      for (const target of targets) {
        const key = `${folderOf(file)} → ${folderOf(target)}`;
        if (folderOf(file) !== folderOf(target)) counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    for (const [key, n] of [...counts].sort()) console.log(`${key}  ${n}`);
  }
  const found = violations(graph);
  for (const v of found) {
    console.error(`harness/${v.file}${v.imports ? ` imports harness/${v.imports}` : ""}: ${v.why}`);
  }
  if (found.length > 0) {
    console.error(
      `${found.length} import${found.length === 1 ? "" : "s"} against the floors (${relative(process.cwd(), fileURLToPath(import.meta.url))})`,
    );
    process.exit(1);
  }
  console.log(`imports: ${graph.size} files, one way, no circle`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === normalize(process.argv[1])) main();
