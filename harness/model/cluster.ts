/** What the harness dials and what an HA manager says about its cluster: the client side's vocabulary. */

/**
 * How a killed member comes back. repair: the HA manager's own procedure (repmgr's node rejoin);
 * restart: its processes start again exactly as they were. Patroni and pg_auto_failover repair
 * themselves on start, so for them both are the same.
 */
export type StartMode = "repair" | "restart";

/** What the HA manager says about the cluster right now. */
export interface ClusterStatus {
  /** False when the HA manager itself (REST API, monitor) did not answer: the rest is then unknown. */
  reachable: boolean;
  primary: string | null;
  /** Replicas the HA manager currently counts as synchronous. */
  syncStandbys: string[];
  replicas: string[];
  /** Every member up and every replica streaming from the primary. */
  healthy: boolean;
  /** One line on why it is not healthy, for progress output and timeouts. */
  detail: string;
}

/**
 * How the harness's clients log in: to a cluster it deployed, as postgres with the run's password;
 * to an attached one, as the cluster file's role, with the run's own schema first on search_path.
 */
export interface ClientLogin {
  password: string;
  /** Default postgres. */
  user?: string;
  /** Default postgres. */
  database?: string;
  /** libpq startup options for every session (`-c search_path=…`). */
  sessionOptions?: string;
}

export interface PostgresEndpoint {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** Startup options for every session, e.g. `-c search_path=…` (an attached run's own schema). */
  options?: string;
}
