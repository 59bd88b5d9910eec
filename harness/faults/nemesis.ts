import { Random } from "../common/random.ts";
import type { NemesisFault, NemesisStep, Target } from "../scenario/scenario.ts";
import { faults } from "./index.ts";

/** One fault of a nemesis schedule, as drawn before anything fires. */
export interface ScheduledFault {
  /** When it fires, from the start of the schedule. */
  at_ms: number;
  fault: NemesisFault;
  target: Target;
  /** How long it lasts before its heal; null for a procedure (a switchover), over when it returns. */
  duration_ms: number | null;
}

function between(random: Random, [low, high]: [number, number]): number {
  return low + Math.round(random.next() * (high - low));
}

/**
 * The whole schedule, drawn at once from its own seed: it depends on nothing that happens during
 * the run (how long an injection took), so the same seed always gives the same schedule.
 */
export function nemesisSchedule(step: NemesisStep, seed: number): ScheduledFault[] {
  const random = new Random(seed);
  const schedule: ScheduledFault[] = [];
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
