import { describe, expect, it } from "vitest";
import { historyOf, leftovers, resultOf, runScenarioFile } from "./helpers.ts";

/**
 * What clients behind an entry point saw, next to clients that route by themselves. A proxy is a
 * member of its own; `uri` is a client library (libpq) and has no host.
 */
function checkEntryPoint(scenario: string, topology: string, proxy: string) {
  describe(`${scenario}: ${topology} through ${proxy}`, () => {
    const run = runScenarioFile(`${scenario}.yaml`, ["--topology", topology]);

    it(proxy === "uri" ? "passes" : "passes, with the proxy as a member of its own", () => {
      const result = resultOf(run, topology);
      expect(result.problems).toEqual([]);
      expect(result.verdict).toBe("pass");
      expect(run.cli.code).toBe(0);
      const members = (result as unknown as { members: { name: string; kind: string }[] }).members;
      if (proxy === "uri") expect(members.some((member) => member.kind === "entrypoint")).toBe(false);
      else expect(members).toContainEqual(expect.objectContaining({ name: proxy, kind: "entrypoint" }));
    });

    it("reports the RTO, write gap and errors each path gave for the same fault", () => {
      const groups = resultOf(run, topology).figures.groups as unknown as Record<
        string,
        { rto_s: number; max_write_gap_s: number; acknowledged_writes: number; lost_writes: number }
      >;
      expect(Object.keys(groups).sort()).toEqual(["direct", proxy].sort());
      for (const group of ["direct", proxy]) {
        expect(groups[group]?.rto_s).toBeGreaterThan(1);
        expect(groups[group]?.rto_s).toBeLessThan(30);
        expect(groups[group]?.max_write_gap_s).toBeGreaterThanOrEqual(groups[group]?.rto_s ?? 0);
        expect(groups[group]?.acknowledged_writes).toBeGreaterThan(50);
        expect(groups[group]?.lost_writes).toBe(0);
      }
    });

    it("names the real node behind the proxy for every acknowledged write, before and after the failover", () => {
      const ops = historyOf(run, topology).filter((op) => op.group === proxy && op.outcome === "ok");
      const nodes = new Set(ops.map((op) => op.node));
      expect([...nodes].every((node) => /^n\d$/.test(node ?? ""))).toBe(true);
      expect(nodes.size).toBe(2);
    });

    it("leaves nothing behind", () => {
      for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
    });
  });
}

checkEntryPoint("kill-primary-haproxy", "patroni", "haproxy");
checkEntryPoint("kill-primary-pgpool", "repmgr", "pgpool");
// pg_auto_failover's formation URI, handed to libpq as an application would.
checkEntryPoint("kill-primary-uri", "pg_auto_failover", "uri");

// The entry point as a fault target: the proxy dies and is restarted 10 s later, the database never fails.
describe("proxy-loss: patroni, HAProxy killed for 10 s", () => {
  const run = runScenarioFile("proxy-loss.yaml");
  const groups = () =>
    resultOf(run, "patroni").figures.groups as unknown as Record<
      string,
      {
        rto_s: number;
        max_write_gap_s: number;
        failed_writes: number;
        unknown_writes: number;
        lost_writes: number;
      }
    >;

  it("passes with no promotion: the outage belongs to the entry point", () => {
    const result = resultOf(run, "patroni");
    expect(result.problems).toEqual([]);
    expect(result.verdict).toBe("pass");
    expect(result.figures.promotions).toBe(0);
    const faults = result.timeline.filter((e) => e.kind === "fault");
    expect(faults.map((e) => [e.phase, e.members])).toEqual([
      ["inject", ["haproxy"]],
      ["heal", ["haproxy"]],
    ]);
  });

  it("shows the proxy's clients down for as long as the proxy, and the direct writers untouched", () => {
    const { direct, haproxy } = groups();
    expect(haproxy?.failed_writes).toBeGreaterThan(0);
    expect(haproxy?.rto_s).toBeGreaterThanOrEqual(10);
    expect(haproxy?.rto_s).toBeLessThan(20);
    expect(direct?.failed_writes).toBe(0);
    expect(direct?.unknown_writes).toBe(0);
    expect(direct?.max_write_gap_s).toBeLessThan(2);
    expect(resultOf(run, "patroni").figures.rto_s).toBe(haproxy?.rto_s);
    for (const group of [direct, haproxy]) expect(group?.lost_writes).toBe(0);
  });

  it("leaves nothing behind", () => {
    for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
  });
});
