/**
 * Where a Patroni deployment keeps its leader lock: the members that run it, and what each Patroni
 * needs to use it. Everything else about deploying Patroni is the same whatever the DCS.
 */
export interface PatroniDcs {
  /** The DCS's members: what the `dcs` target resolves to. */
  readonly names: string[];
  /** Patroni's scope: the cluster's name in the DCS. */
  readonly scope: string;
  /** Configures and starts every DCS member; returns once Patroni can use it for these nodes. */
  start(nodes: string[]): Promise<void>;
  /** Starts a DCS member's processes again (the heal of kill or stop). */
  startMember(name: string): Promise<void>;
  /** Stops a DCS member cleanly (SIGTERM), returning once nothing runs there. */
  stopMember(name: string): Promise<void>;
  /** A node's DCS section of patroni.yml (etcd3:, kubernetes:) and the environment its Patroni needs. */
  patroniConfig(node: string): Promise<{ section: Record<string, unknown>; env: Record<string, string> }>;
  versions(): Promise<Record<string, string>>;
  settings(): Record<string, unknown>;
  logFiles(member: string): string[];
}
