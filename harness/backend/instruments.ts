import { AGENT_MARKER } from "../agent/protocol.ts";
import { INSTRUMENT_MARKER, type MemberProcess, SSHD_MARKER } from "./backend.ts";

/**
 * The system under test among a member's processes. The harness's own helpers (writers, observers
 * placed on the member) and everything they start are instruments: faults never signal them, a clean
 * stop does not wait for them; teardown still removes them. So is the sshd that stands for the
 * host's remote shell (the sessions it runs are repmgr's, so they count), the instruments a fault
 * starts (spawnInstrument: a link fault's Toxiproxy), and whatever the backend
 * itself calls plumbing (Docker's init and keeper, the listing's own ps).
 */
export function systemUnderTest(
  all: MemberProcess[],
  plumbing: (process: MemberProcess) => boolean,
): MemberProcess[] {
  const helpers = new Set(
    all
      .filter((p) => p.command.includes(AGENT_MARKER) || p.command.includes(INSTRUMENT_MARKER))
      .map((p) => p.pid),
  );
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of all) {
      if (!helpers.has(p.pid) && helpers.has(p.ppid)) {
        helpers.add(p.pid);
        grew = true;
      }
    }
  }
  return all.filter((p) => !helpers.has(p.pid) && !p.command.includes(SSHD_MARKER) && !plumbing(p));
}
