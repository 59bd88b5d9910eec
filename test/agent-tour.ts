import { describe, expect, it } from "vitest";
import { type ResultJson, historyOf, leftovers, resultOf, runScenarioFile } from "./helpers.ts";

/**
 * The agent tour on one backend: the faults are intentions each backend carries out, checked the
 * same way. Local runs in `npm test`; Docker in the full matrix (test/full/agent-tour-docker.test.ts).
 */

interface Event {
  kind: string;
  fault?: string;
  phase?: string;
  members?: string[];
  detail?: string;
  member?: string;
  role?: string;
  at_ns?: number;
  requested_ns?: number;
}

const TOPOLOGIES = ["patroni", "pg_auto_failover", "repmgr"];
const events = (result: ResultJson) => result.timeline as Event[];
const faultEvent = (result: ResultJson, fault: string, phase: string) =>
  events(result).find((e) => e.kind === "fault" && e.fault === fault && e.phase === phase);

export function describeAgentTour(backend: "local" | "docker"): void {
  describe(`agent-tour on ${backend}: the HA agent killed, frozen and skewed, a backend crashed — PostgreSQL keeps running`, () => {
    const run = runScenarioFile("test/scenarios/agent-tour.yaml", ["--backend", backend]);

    for (const topology of TOPOLOGIES) {
      it(`${topology}: each fault injects and heals, says what it did, and nobody is promoted`, () => {
        const result = resultOf(run, topology);
        expect(result.problems).toEqual([]);
        for (const fault of ["kill-agent", "freeze-agent", "clock-skew", "crash-backend"]) {
          expect(faultEvent(result, fault, "inject"), fault).toBeDefined();
          expect(faultEvent(result, fault, "heal"), fault).toBeDefined();
        }
        expect(faultEvent(result, "kill-agent", "inject")?.detail).toMatch(
          /^n\d: SIGKILL to \d+(, \d+)*; PostgreSQL \d+ left running$/,
        );
        expect(faultEvent(result, "freeze-agent", "inject")?.detail).toMatch(/SIGSTOP to \d+.*left running/);
        expect(faultEvent(result, "clock-skew", "inject")?.detail).toMatch(
          /^n\d: agent \d+(, \d+)* moved \+45 s \(its clock read \+4[3-7] s\)$/,
        );
        expect(faultEvent(result, "crash-backend", "inject")?.detail).toMatch(
          /SIGKILL to backend \d+ \(pgchaos-writer\)/,
        );
        expect(result.figures.promotions).toBe(0);
        expect(result.figures.lost_writes).toBe(0);
        expect(result.verdict).toBe("pass");
      });

      it(`${topology}: the replica's PostgreSQL served throughout the agent's kill and freeze`, () => {
        const result = resultOf(run, topology);
        const from = faultEvent(result, "kill-agent", "inject");
        const to = faultEvent(result, "freeze-agent", "heal");
        const member = from?.members?.[0];
        const during = events(result).filter(
          (e) =>
            e.kind === "role" &&
            e.member === member &&
            (e.at_ns ?? 0) >= (from?.at_ns ?? 0) &&
            (e.at_ns ?? 0) <= (to?.at_ns ?? 0),
        );
        expect(during.filter((e) => e.role !== "replica")).toEqual([]);
      });

      it(`${topology}: the crashed backend cost writes on the primary, which took writes again on its timeline`, () => {
        const result = resultOf(run, topology);
        const crash = faultEvent(result, "crash-backend", "inject");
        const primary = crash?.members?.[0];
        const after = historyOf(run, topology).filter((op) => op.complete_ns >= (crash?.requested_ns ?? 0));
        const before = historyOf(run, topology).filter(
          (op) => op.complete_ns < (crash?.requested_ns ?? 0) && op.outcome === "ok" && op.node === primary,
        );
        // The postmaster ends every connection: the writer it hit, and the others, fail once.
        expect(after.some((op) => op.outcome !== "ok")).toBe(true);
        const firstAck = after.find((op) => op.outcome === "ok");
        expect(firstAck?.node).toBe(primary);
        expect(firstAck?.timeline).toBe(before.at(-1)?.timeline);
      });
    }

    it("leaves nothing behind, libfaketime's shared memory included", () => {
      expect([...run.results.keys()].sort()).toEqual(TOPOLOGIES);
      for (const runId of run.runIds) expect(leftovers(runId)).toEqual([]);
    });
  });
}
