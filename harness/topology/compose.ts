import type { Deployment, HaClient, Topology } from "./topology.ts";

/** One HA manager on a backend: what its client says, and what its deployment does. */
export function composeTopology(client: HaClient, deployment: Deployment): Topology {
  return {
    name: client.name,
    postgresMembers: () => client.postgresMembers(),
    connectionUri: () => client.connectionUri(),
    status: () => client.status(),
    switchover: (candidate) => client.switchover(candidate),
    promotions: () => client.promotions(),
    haEvents: () => client.haEvents(),
    watch: () => client.watch?.() ?? (async () => {}),
    endpoint: (member) => client.endpoint(member),
    members: () => deployment.members(),
    start: () => deployment.start(),
    dataDir: (member) => deployment.dataDir(member),
    configure: (member, parameters) => deployment.configure(member, parameters),
    stopMember: (member) => deployment.stopMember(member),
    startMember: (member, mode) => deployment.startMember(member, mode),
    agentCommand: deployment.agentCommand,
    startAgent: (member) => deployment.startAgent(member),
    versions: () => deployment.versions(),
    settings: () => deployment.settings(),
    logFiles: (member) => deployment.logFiles(member),
  };
}
