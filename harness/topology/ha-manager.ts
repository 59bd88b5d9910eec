import type { z } from "zod";
import type { HaRules } from "../verify/bound.ts";
import type { TopologyKind } from "./topology.ts";

/**
 * A file a run needs and what provides it: a path (`{pg}` is PostgreSQL's directory, `{v}` its
 * major version) and the Debian package(s) that install it, or the command that builds it.
 */
export type Need = readonly [path: string, fix: string];

/**
 * One HA manager, as its folder (topology/<name>/manager.ts) puts it together: every field
 * required, so an HA manager with a piece missing is a compile error, not a silent null in verify,
 * preflight or the scenario's checks.
 */
export interface HaManager {
  /** Its deployment: members, harness ports, create (the cluster and its HaClient). */
  kind: TopologyKind;
  /** The pure rules verify applies to its runs: RTO bound, phase reactions. */
  rules: HaRules;
  /** Its own settings under a scenario's cluster.ha.<name>; a sweep point is checked against it too. */
  settings: z.ZodType;
  /** Targets that exist only on this HA manager (monitor, witness, dcs…); [] for none. */
  targets: readonly string[];
  /** What preflight checks for it (run/preflight.ts). */
  needs: {
    /** In each member: on this machine for the local backend, in the image otherwise (checkMember). */
    member: readonly Need[];
    /** Built on this machine rather than installed (local backend only): the path and the command that builds it. */
    builtHere: readonly Need[];
    /** On the harness's side, whatever the backend. */
    harness: readonly Need[];
  };
}
