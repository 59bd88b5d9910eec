import { access, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { reporters, writeReports } from "./index.ts";
import type { Reporter } from "./reporter.ts";
import { fixtureReport } from "./test-fixture.ts";

describe("writeReports", () => {
  it("includes the json, edn and html reporters", () => {
    expect(reporters.map((r) => r.name)).toEqual(["json", "edn", "html"]);
  });

  it("creates the directory and returns every path written", async () => {
    const root = await mkdtemp(join(tmpdir(), "pgchaos-reports-"));
    try {
      const dir = join(root, "a", "b");
      const paths = await writeReports(fixtureReport(), dir);
      expect(paths).toEqual(
        ["result.json", "history.json", "history.edn", "report.html"].map((f) => join(dir, f)),
      );
      for (const p of paths) await access(p);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("runs the remaining reporters when one fails, then reports the failure", async () => {
    const root = await mkdtemp(join(tmpdir(), "pgchaos-reports-"));
    const broken: Reporter = {
      name: "broken",
      write: () => Promise.reject(new Error("boom")),
    };
    try {
      await expect(writeReports(fixtureReport(), root, [broken, ...reporters])).rejects.toThrow(
        /1 reporter\(s\) failed; wrote .*result\.json/,
      );
      await access(join(root, "report.html"));
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
