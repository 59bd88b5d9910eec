/**
 * Says why acknowledged writes were lost, in one line drawn from the record, with the events it
 * rests on: which timeline the lost writes were acknowledged on, whether the final primary
 * descends from it, who was primary again, who rewound, and whether the run ended split.
 */

import type { Evidence, Explanation } from "../model/figures.ts";
import type { Divergence } from "../model/figures.ts";
import type { Promotion } from "../model/figures.ts";
import type { RunRecord } from "../model/record.ts";
import type { TimelineEvent } from "../model/timeline.ts";
import { ancestry } from "../observe/timeline-history.ts";
import { formatCount } from "./units.ts";

const count = formatCount;
const REWIND = /rewind/i;
const LEADERSHIP = /lock|leader/i;
const DEMOTION = /demot/i;

interface LostGroup {
  node: string;
  timeline: number | null;
  ids: number;
  firstAckNs: number;
}

function lostGroups(record: Pick<RunRecord, "history">, lostIds: readonly number[]): LostGroup[] {
  const lost = new Set(lostIds);
  const groups = new Map<string, LostGroup>();
  for (const op of record.history) {
    if (op.outcome !== "ok" || !lost.has(op.id)) continue;
    const node = op.node ?? "?";
    const key = `${node}\u0000${op.timeline}`;
    const group = groups.get(key) ?? { node, timeline: op.timeline, ids: 0, firstAckNs: op.complete_ns };
    groups.set(key, group);
    group.ids += 1;
    group.firstAckNs = Math.min(group.firstAckNs, op.complete_ns);
  }
  return [...groups.values()].sort((a, b) => b.ids - a.ids);
}

function eventText(event: TimelineEvent): string {
  switch (event.kind) {
    case "ha":
      return `${event.member ?? event.source}: ${event.text}`;
    case "fault":
      return `${event.phase} ${event.fault} on ${event.members.join(", ")}`;
    case "promotion":
      return `${event.member} promoted to timeline ${event.timeline} (${event.source})`;
    default:
      return event.kind;
  }
}

/**
 * null when nothing acknowledged was lost and the run did not end split. `lostIds` null (the final
 * state unreadable) explains nothing: there is nothing to say why about.
 */
export function explainLoss(
  record: Pick<RunRecord, "history" | "timeline" | "final">,
  lostIds: readonly number[] | null,
  promotions: readonly Promotion[],
  divergence: Divergence | null,
): Explanation | null {
  const groups = lostIds === null ? [] : lostGroups(record, lostIds);
  if (groups.length === 0 && divergence === null) return null;
  const evidence: Evidence[] = [];
  const cite = (event: TimelineEvent | undefined): void => {
    if (event && !evidence.some((e) => e.at_ns === event.at_ns)) {
      evidence.push({ at_ns: event.at_ns, text: eventText(event) });
    }
  };
  const primary = record.final.primary;
  const history = record.final.histories?.find((h) => h.member === primary);
  const kept = history ? ancestry(history.timeline, history.forks) : null;
  const sentences: string[] = [];
  if (divergence)
    sentences.push(`the run ended split: ${divergence.members.join(" and ")} were both writable`);

  const worst = groups[0];
  if (worst && primary) {
    const created = promotions.find((p) => p.timeline === worst.timeline && p.member === worst.node);
    const after = created?.at_ns ?? worst.firstAckNs;
    const haLater = record.timeline.filter(
      (e): e is Extract<TimelineEvent, { kind: "ha" }> => e.kind === "ha" && e.at_ns >= after,
    );
    const rewound = [...new Set(haLater.filter((e) => REWIND.test(e.text)).map((e) => e.member))].filter(
      (m): m is string => m !== null,
    );
    const where = `${worst.node}'s timeline ${worst.timeline ?? "?"} (${count(worst.ids)} acknowledged writes)`;
    if (kept !== null && worst.timeline !== null && !kept.has(worst.timeline)) {
      // The timeline the writes were acknowledged on is not in the final primary's history: undone.
      const heal = record.timeline.find(
        (e) => e.kind === "fault" && e.phase === "heal" && e.members.includes(primary) && e.at_ns >= after,
      );
      const lock = haLater.find((e) => e.member === primary && LEADERSHIP.test(e.text));
      cite(
        record.timeline.find(
          (e) => e.kind === "promotion" && e.member === worst.node && e.timeline === worst.timeline,
        ),
      );
      // The promoted node stepping down after the heal: it lost the lock it had taken.
      const demoted = haLater.find(
        (e) => e.member === worst.node && DEMOTION.test(e.text) && e.at_ns >= (heal?.at_ns ?? after),
      );
      cite(heal);
      cite(lock);
      cite(demoted);
      for (const member of rewound) cite(haLater.find((e) => e.member === member && REWIND.test(e.text)));
      const back = heal
        ? `after the heal of ${heal.kind === "fault" ? heal.fault : "a fault"} on ${primary}, `
        : "";
      const lockText = `${lock ? ` (${lock.text})` : ""}${demoted ? ` and ${worst.node} stepped down (${demoted.text})` : ""}`;
      const rewoundText = rewound.length > 0 ? `, and ${rewound.join(", ")} rewound to ${primary}` : "";
      sentences.push(
        `${back}${primary} was primary again on timeline ${history?.timeline}${lockText}; ${worst.node}'s timeline ${worst.timeline}, with ${count(worst.ids)} acknowledged writes, is not in its history: abandoned${rewoundText}`,
      );
    } else {
      const next = promotions.find(
        (p) => p.parent === worst.timeline && (kept === null || kept.has(p.timeline)),
      );
      if (next) {
        // The fault in force when the promoted node forked off, then the promotion itself.
        cite(
          record.timeline
            .filter((e) => e.kind === "fault" && e.phase === "inject" && e.at_ns <= next.at_ns)
            .at(-1),
        );
        cite(
          record.timeline.find(
            (e) => e.kind === "promotion" && e.member === next.member && e.timeline === next.timeline,
          ),
        );
        const fork = next.fork_lsn ? ` (at ${next.fork_lsn})` : "";
        sentences.push(
          `${count(worst.ids)} writes acknowledged by ${worst.node} on timeline ${worst.timeline} came after ${next.member}'s timeline ${next.timeline} forked off it${fork}: the promoted node never had them, and the final primary ${primary} descends from it`,
        );
      } else {
        sentences.push(`${where} are missing from the final primary ${primary}`);
      }
    }
    const others = groups.slice(1).reduce((sum, g) => sum + g.ids, 0);
    if (others > 0) sentences.push(`${count(others)} more lost writes were acknowledged elsewhere`);
  }
  const text = sentences.join("; ");
  return {
    text: text.charAt(0).toUpperCase() + text.slice(1),
    evidence: evidence.sort((a, b) => a.at_ns - b.at_ns),
  };
}
