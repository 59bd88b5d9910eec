/**
 * Entry point of a helper process inside a member's namespace (see protocol.ts). It reads its
 * config from argv, streams one JSON message per line on stdout, and stops cleanly on SIGTERM.
 */
import { readFileSync, unlinkSync } from "node:fs";
import { RunClock } from "../common/clock.ts";
import { RoleSampler } from "../observe/roles.ts";
import { Workload } from "../workload/workload.ts";
import type { AgentConfig, AgentMessage } from "./protocol.ts";

// The config is the last argument: backends put a marker (and a bundle path) before it. `@<file>`:
// read from that file and delete it (on somebody else's host the config's password must not be in
// argv, which every user there can read in ps).
const last = process.argv.at(-1) ?? "{}";
const configText = last.startsWith("@") ? readFileSync(last.slice(1), "utf8") : last;
if (last.startsWith("@")) unlinkSync(last.slice(1));
const config = JSON.parse(configText) as AgentConfig;
const clock = new RunClock({ mono: BigInt(config.startMono), wallMs: config.startWallMs });
const send = (message: AgentMessage) => process.stdout.write(`${JSON.stringify(message)}\n`);
const endpoint = (member: string) => {
  const found = config.endpoints[member];
  if (!found) throw new Error(`no endpoint for ${member}`);
  return found;
};
const addresses = new Map(Object.entries(config.endpoints).map(([member, e]) => [e.host, member]));

const clients = config.clients;
const workload = clients
  ? new Workload({
      groups: [
        {
          name: clients.group,
          writers: clients.writers,
          rate: clients.rate,
          route: { kind: "hosts", targets: clients.targets, endpoint, accept: clients.accept },
          readers: { primary: clients.readers, replica: 0, rate: clients.readRate },
          replicaRoute: null,
        },
      ],
      write: clients.write,
      writerNames: clients.writerNames,
      seed: clients.seed,
      timeoutMs: clients.timeoutMs,
      memberAt: (address) => addresses.get(address),
      clock,
      firstId: clients.firstId,
      onOperation: (operation) => send({ type: "operation", operation }),
      onRead: (read) => send({ type: "read", read }),
    })
  : undefined;
const sampler = config.observe
  ? new RoleSampler([config.observe], endpoint, clock, (event) => send({ type: "event", event }), "inside")
  : undefined;

workload?.start();
sampler?.start();
process.once("SIGTERM", () => {
  void Promise.all([workload?.stop(), sampler?.stop()]).then(() => process.exit(0));
});
