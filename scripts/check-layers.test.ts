import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { circles, floorOf, folderOf, importGraph, violations } from "./check-layers.ts";

/** A graph as the checker reads harness/: file → the files it imports. */
function graph(edges: Record<string, string[]>): Map<string, string[]> {
  return new Map(Object.entries(edges));
}

describe("check-layers", () => {
  it("lets a folder import its own folder and lower floors", () => {
    const ok = graph({
      "verify/rto.ts": ["model/record.ts", "verify/units.ts", "common/clock.ts"],
      "verify/units.ts": [],
      "model/record.ts": [],
      "common/clock.ts": [],
      "cli.ts": ["run/runner.ts"],
      "run/runner.ts": ["report/reporter.ts", "verify/rto.ts"],
      "report/reporter.ts": ["model/record.ts"],
    });
    expect(violations(ok)).toEqual([]);
  });

  it("fails on a planted upward import, type-only or not", () => {
    const upward = graph({
      "model/record.ts": ["backend/backend.ts"],
      "backend/backend.ts": [],
      "report/chart.ts": ["run/record.ts"],
      "run/record.ts": [],
    });
    expect(violations(upward)).toEqual([
      { file: "model/record.ts", imports: "backend/backend.ts", why: "model is below backend" },
      { file: "report/chart.ts", imports: "run/record.ts", why: "report is below run" },
    ]);
  });

  it("fails on a planted circle, inside one folder and across a floor", () => {
    const circle = graph({
      "topology/patroni.ts": ["topology/kube-apiserver.ts"],
      "topology/kube-apiserver.ts": ["topology/patroni.ts"],
      "faults/kill.ts": ["entrypoints/index.ts"],
      "entrypoints/index.ts": ["faults/kill.ts"],
      "verify/rto.ts": ["verify/rto.ts"],
    });
    expect(circles(circle)).toEqual([
      ["topology/kube-apiserver.ts", "topology/patroni.ts", "topology/kube-apiserver.ts"],
      ["entrypoints/index.ts", "faults/kill.ts", "entrypoints/index.ts"],
      ["verify/rto.ts", "verify/rto.ts"],
    ]);
    expect(violations(circle).map((v) => v.why)).toEqual([
      "circle: topology/kube-apiserver.ts → topology/patroni.ts → topology/kube-apiserver.ts",
      "circle: entrypoints/index.ts → faults/kill.ts → entrypoints/index.ts",
      "circle: verify/rto.ts → verify/rto.ts",
    ]);
  });

  it("names a folder that sits on no floor", () => {
    expect(violations(graph({ "helpers/x.ts": [] }))).toEqual([
      { file: "helpers/x.ts", imports: "", why: "folder helpers is on no floor (scripts/check-layers.ts)" },
    ]);
    expect(folderOf("cli.ts")).toBe("(cli)");
    expect(floorOf("model")).toBeLessThan(floorOf("verify"));
  });

  it("reads every kind of relative import from the files, tests left out", () => {
    const root = mkdtempSync(join(tmpdir(), "layers-"));
    try {
      mkdirSync(join(root, "model"));
      mkdirSync(join(root, "run"));
      writeFileSync(
        join(root, "model", "a.ts"),
        [
          'import type { X } from "../run/x.ts";',
          'export { Y } from "./y.ts";',
          'import "../run/side.ts";',
          'const z = await import("../run/z.ts");',
          'import { readFileSync } from "node:fs";',
        ].join("\n"),
      );
      writeFileSync(join(root, "model", "a.test.ts"), 'import "../run/x.ts";');
      writeFileSync(join(root, "run", "x.ts"), "");
      const read = importGraph(root);
      expect([...read.keys()].sort()).toEqual(["model/a.ts", "run/x.ts"]);
      expect(read.get("model/a.ts")).toEqual(["run/x.ts", "model/y.ts", "run/side.ts", "run/z.ts"]);
      expect(violations(read).map((v) => v.imports)).toEqual(["run/x.ts", "run/side.ts", "run/z.ts"]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("finds harness/ one way, with no circle", () => {
    const real = importGraph(fileURLToPath(new URL("../harness", import.meta.url)));
    expect(real.size).toBeGreaterThan(100);
    expect(real.get("model/record.ts")).toEqual(["model/history.ts", "model/timeline.ts"]);
    expect(violations(real)).toEqual([]);
  });
});
