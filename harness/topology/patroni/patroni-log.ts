/** Patroni log lines worth a place on the timeline: leadership, demotion, rewind, sync standby changes. */
const NOTABLE = [
  /promoted self to leader/,
  /acquired session lock as a leader/,
  /[Dd]emot(ing|ed) self/,
  /following new leader/,
  /Could not take out TTL lock/,
  /running pg_rewind/,
  /pg_rewind exit code/,
  /Assigning synchronous standby status/,
  /Changed synchronous_standby_names/,
  /starting as a secondary/,
  /I am the leader but not owner of the lease/,
  /Error communicating with DCS/,
  /DCS is not accessible/,
  /trying to bootstrap/,
  // The leader race: a replica found the leader key gone and asks the others (ha.py
  // fetch_node_status); the first of these ends the detection phase (verify/phases.ts).
  /^Request failed to \S+: GET /,
  /^Got response from /,
  /not the healthiest node/,
  /not allowed to promote/,
  // Patroni 4 raises a ttl below 20 (and other bounds) on its own: the scenario's setting is not in force.
  /can't be smaller than \d+, adjusting/,
];

export interface LogEvent {
  wallMs: number;
  text: string;
}

// "2026-11-22 00:43:09,594 INFO: promoted self to leader by acquiring session lock"
const LINE = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}),(\d{3}) (?:INFO|WARNING|ERROR|CRITICAL): (.*)$/;

/** Parses Patroni's own log lines (local time, as Patroni writes them) into notable events. */
export function parsePatroniLog(text: string): LogEvent[] {
  const events: LogEvent[] = [];
  for (const line of text.split("\n")) {
    const match = LINE.exec(line);
    if (!match) continue;
    const [, day, time, millis, message] = match;
    if (!message || !NOTABLE.some((pattern) => pattern.test(message))) continue;
    events.push({ wallMs: new Date(`${day}T${time}.${millis}`).getTime(), text: message });
  }
  return events;
}
