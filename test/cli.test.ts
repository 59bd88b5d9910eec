import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, pgchaos } from "./helpers.ts";

function scenarioFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "pgchaos-cli-")), "bad.yaml");
  writeFileSync(file, text);
  return file;
}

const VALID = `name: t
topologies: [patroni]
cluster: { nodes: 3 }
steps:
  - sleep: 1s
`;

describe("pgchaos CLI on bad input", () => {
  it("validates the shipped scenarios", () => {
    const result = pgchaos(["validate", join(ROOT, "scenarios/kill-primary.yaml")]);
    expect(result.stdout).toContain("ok (kill-primary, backend local)");
    expect(result.code).toBe(0);
  });

  it("names file, line and key of an unknown key, exit 2", () => {
    const file = scenarioFile(`${VALID}bogus: 1\n`);
    const result = pgchaos(["run", file]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(`pgchaos: ${file}:6:1: (top level): unknown key "bogus"`);
  });

  it("rejects a bad duration with its position", () => {
    const file = scenarioFile(VALID.replace("sleep: 1s", "sleep: 3x"));
    const result = pgchaos(["validate", file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${file}:5:12: steps[0].sleep: is not a duration`);
  });

  it("rejects an impossible target before starting anything", () => {
    const file = scenarioFile(VALID.replace("  - sleep: 1s", "  - fault: kill\n    target: node:n7"));
    const result = pgchaos(["run", file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no node "n7" in a 3-node cluster');
  });

  it("rejects a malformed expectation", () => {
    const file = scenarioFile(`${VALID}expect:\n  rto: "<30 sec"\n`);
    const result = pgchaos(["validate", file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("expect.rto");
  });

  it("refuses to run without root, in one line, exit 2", () => {
    const result = pgchaos(["run", join(ROOT, "scenarios/kill-primary.yaml")], { asUser: "nobody" });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toContain("missing: running as root");
  });

  it("checks every scenario's topology before running any", () => {
    const other = scenarioFile(VALID.replace("[patroni]", "[repmgr]"));
    const result = pgchaos([
      "run",
      join(ROOT, "scenarios/kill-primary.yaml"),
      other,
      "--topology",
      "patroni",
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(`pgchaos: ${other}: does not list topology patroni`);
    expect(result.stdout).not.toContain("starting");
  });

  it("exits 2 on an unknown command", () => {
    expect(pgchaos(["explode"]).code).toBe(2);
  });

  it("prints usage for --help on the program and on every command, exit 0", () => {
    for (const args of [
      ["--help"],
      ["-h"],
      ["run", "--help"],
      ["validate", "-h"],
      ["cleanup", "--help"],
      ["doctor", "--help"],
    ]) {
      const result = pgchaos(args);
      expect(result.code, args.join(" ")).toBe(0);
      expect(result.stdout).toContain("pgchaos run <scenario.yaml…>");
    }
  });

  it("prints its version", () => {
    const result = pgchaos(["--version"]);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(/^pgchaos \d+\.\d+\.\d+$/);
  });

  it("refuses a fault the backend cannot do, naming both, before starting anything", () => {
    const file = scenarioFile(VALID.replace("  - sleep: 1s", "  - fault: pause\n    target: primary"));
    const result = pgchaos(["run", file, "--backend", "local"]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(
      `pgchaos: ${file}:5:12: fault pause needs a backend that can pause (docker); backend local cannot`,
    );
    expect(pgchaos(["validate", file, "--backend", "docker"]).code).toBe(0);
  });

  it("refuses a stack on the local backend and an unknown stack", () => {
    expect(pgchaos(["run", join(ROOT, "scenarios/kill-primary.yaml"), "--stack", "trixie"]).stderr).toContain(
      "needs --backend docker",
    );
    const unknown = pgchaos([
      "run",
      join(ROOT, "scenarios/kill-primary.yaml"),
      "--backend",
      "docker",
      "--stack",
      "sid",
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("--stack sid: unknown");
  });
});
