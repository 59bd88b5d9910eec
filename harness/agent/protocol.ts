import type { PostgresEndpoint } from "../model/cluster.ts";
import type { ReadOperation, WriteOperation } from "../model/history.ts";
import type { WriteKind } from "../model/scenario.ts";
import type { TimelineEvent } from "../model/timeline.ts";

import { fileURLToPath } from "node:url";

/**
 * An argument on every agent's command line, just before its config, so backends can tell the
 * harness's instruments from the system under test.
 */
export const AGENT_MARKER = "pgchaos-agent";

/** The agent's entry point, which backends run (or bundle) inside a member. */
export const AGENT_MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

/**
 * A helper process the harness starts inside a member's own network namespace: writers placed
 * beside a member (a client on the same host as the old primary) and an observer that still sees
 * the member when a partition hides it from the outside.
 */
export interface AgentConfig {
  /** The run's clock start (CLOCK_MONOTONIC, as a decimal string) and wall-clock start. */
  startMono: string;
  startWallMs: number;
  /** Endpoint and address of every PostgreSQL member by member name, and of the name service's name. */
  endpoints: Record<string, PostgresEndpoint>;
  /** A client group in the member: placed beside it, or the dns entry point's own writers. */
  clients: AgentClients | null;
  /** The member to sample from inside, or null. */
  observe: string | null;
}

/** Writers and readers an agent runs, on the path its targets and acceptance make. */
export interface AgentClients {
  group: string;
  writers: number;
  readers: number;
  rate: number;
  readRate: number;
  timeoutMs: number;
  /** Members tried in order, like a multi-host connection string (or the name service's name, "dns"). */
  targets: string[];
  /** read-write: like target_session_attrs=read-write; any: whatever the name leads to, as an application that connects by name. */
  accept: "read-write" | "any";
  firstId: number;
  write: WriteKind;
  /** Every writer of the run, which its reads ask about. */
  writerNames: readonly string[];
  seed: number;
}

/** One line on the agent's stdout. */
export type AgentMessage =
  | { type: "operation"; operation: WriteOperation }
  | { type: "read"; read: ReadOperation }
  | { type: "event"; event: TimelineEvent };
