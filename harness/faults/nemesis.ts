import { Random } from "../common/random.ts";
import type { Target } from "../model/scenario.ts";
import type { ScheduledFault } from "../model/timeline.ts";
import { type FaultName, faults } from "./index.ts";

/** A fault a nemesis may draw (faults/index.ts: NEMESIS_FAULTS). */
export type NemesisFault = FaultName;

/** A scheduled fault as drawn here: the timeline keeps its name as a string, this its registry name. */
export interface DrawnFault extends ScheduledFault {
  fault: NemesisFault;
}

/** Random faults at random times from the run's seed (nemesisSchedule draws the schedule). */
export interface NemesisStep {
  kind: "nemesis";
  faults: NemesisFault[];
  targets: Target[];
  /** [shortest, longest] quiet time after a heal, and fault length. */
  intervalMs: [number, number];
  durationMs: [number, number];
  totalMs: number;
  /** packet-loss: share of packets dropped. */
  percent: number;
  at: string;
}

function between(random: Random, [low, high]: [number, number]): number {
  return low + Math.round(random.next() * (high - low));
}

/**
 * The whole schedule, drawn at once from its own seed: it depends on nothing that happens during
 * the run (how long an injection took), so the same seed always gives the same schedule.
 */
export function nemesisSchedule(step: NemesisStep, seed: number): DrawnFault[] {
  const random = new Random(seed);
  const schedule: DrawnFault[] = [];
  for (let at_ms = between(random, step.intervalMs); at_ms < step.totalMs; ) {
    const fault = random.pick(step.faults) as NemesisFault;
    const target = random.pick(step.targets) as Target;
    // Drawn for every fault, so a fault without heal does not shift the other draws.
    const length = Math.min(between(random, step.durationMs), step.totalMs - at_ms);
    const duration_ms = faults[fault].heals ? length : null;
    schedule.push({ at_ms, fault, target, duration_ms });
    at_ms += (duration_ms ?? 0) + between(random, step.intervalMs);
  }
  return schedule;
}

/** The seed of one nemesis step: the run's seed and the step's place in the file, nothing else. */
export function nemesisSeed(runSeed: number, stepIndex: number): number {
  return (Math.imul(runSeed ^ 0x85ebca6b, 31) + stepIndex * 0x9e3779b9) >>> 0;
}
