/**
 * One timeline for everything that happened during a run: harness steps, faults, sampled roles
 * and the HA manager's own events. Times are monotonic nanoseconds since the run started.
 */

import type { Target } from "./scenario.ts";

/** A member's role as seen by a sampler. `down`: refused connections; `unreachable`: no answer in time. */
export type Role = "primary" | "replica" | "down" | "unreachable";

export type TimelineEvent =
  | { at_ns: number; kind: "step"; text: string }
  /** A nemesis step's whole schedule, drawn when it began: what --seed replays. */
  | { at_ns: number; kind: "nemesis"; seed: number; schedule: ScheduledFault[] }
  | {
      at_ns: number;
      kind: "fault";
      phase: "inject" | "heal";
      fault: string;
      /** The target as written in the scenario, e.g. "primary". */
      target: string;
      /** Members it resolved to when it fired. */
      members: string[];
      /** When the harness began injecting or healing (at_ns: when the fault counts as in force / healed). */
      requested_ns?: number;
      /** What the fault did, in its own words (which processes it signalled, what it left running). */
      detail?: string;
    }
  | {
      at_ns: number;
      kind: "role";
      member: string;
      role: Role;
      /** Where the sample was taken from, e.g. "outside" (root namespace) or "inside". */
      observer: string;
      timeline: number | null;
      lsn: string | null;
    }
  | {
      at_ns: number;
      kind: "promotion";
      /** Who reported it, e.g. "patroni /history". */
      source: string;
      member: string;
      /** New timeline created by the promotion. */
      timeline: number;
      /** Position on the previous timeline where the new one forked off. */
      fork_lsn: string | null;
      reason: string;
    }
  | {
      at_ns: number;
      /**
       * PostgreSQL's own record of a promotion: the line of pg_wal/<timeline>.history that says where
       * `timeline` forked off `parent`, read from `member` when it was first sampled primary on it.
       */
      kind: "fork";
      member: string;
      timeline: number;
      parent: number;
      fork_lsn: string;
      reason: string;
    }
  | { at_ns: number; kind: "ha"; source: string; member: string | null; text: string }
  | {
      at_ns: number;
      /** An outside controller moved an entry point after the HA manager acted (the name service's poller). */
      kind: "repoint";
      source: string;
      /** The name it moved, e.g. primary.pgchaos.internal. */
      name: string;
      /** Members it pointed at before (null: nothing yet) and after; at_ns: when its server answered so. */
      from: string | null;
      to: string;
      text: string;
    };

/** One fault of a nemesis schedule, as drawn before anything fires. */
export interface ScheduledFault {
  /** When it fires, from the start of the schedule. */
  at_ms: number;
  /** A fault the nemesis may draw (faults/index.ts: NEMESIS_FAULTS), by its scenario name. */
  fault: string;
  target: Target;
  /** How long it lasts before its heal; null for a procedure (a switchover), over when it returns. */
  duration_ms: number | null;
}
