import type { Outage, SplitBrainSource, Verification } from "../model/figures.ts";
/**
 * The run timeline as inline SVG: one swimlane per member coloured by its role over time, a lane
 * for what the HA manager said about the cluster, fault bands across all lanes in the colour of
 * their kind, promotion and HA-event markers, and optionally a compact writes strip.
 */
import type { Member, RunRecord } from "../model/record.ts";
import { CHAR_W, LEFT, PLOT_W, RIGHT, W, axisSvg, n, sec, xScale } from "./axis.ts";
import { escapeHtml as esc } from "./escape.ts";
import { formatSeconds } from "./format.ts";
import {
  type FaultBand,
  type RoleSegment,
  type TimeWindow,
  faultBands,
  fullWindow,
  haEvents,
  haStatusSegments,
  impliedSegments,
  outageSeconds,
  outagesNamePaths,
  outagesOfBand,
  roleSegments,
  runEndNs,
  workloadBuckets,
} from "./model.ts";
import { HA_COLORS, HA_LABELS, faultColor } from "./palette.ts";
import { maskText } from "./redact.ts";

export { tickStep } from "./axis.ts";

const LANE_H = 20;
const LANE_GAP = 7;
/** Extra space where the member kind changes (postgres → dcs), so groups read apart. */
const GROUP_GAP = 10;
const LABEL_ROW_H = 16;
const BARS_H = 40;
const TICK_H = 8;

export interface TimelineOptions {
  /** The x-axis span; the whole run by default. */
  window?: TimeWindow;
  /** Adds a compact acknowledged / failed / unknown strip under the lanes (for the comparison view). */
  writes?: boolean;
}

interface Label {
  key: string;
  x: number;
  text: string;
  color: string;
  row: number;
  anchorEnd: boolean;
}

/** Greedy row assignment so band and promotion labels above the lanes never overlap. */
function placeLabels(items: { key: string; x: number; text: string; color: string }[]): Label[] {
  const rowEnds: number[] = [];
  return [...items]
    .sort((a, b) => a.x - b.x)
    .map((item) => {
      const width = item.text.length * CHAR_W;
      const anchorEnd = item.x + 4 + width > W - 4;
      const from = anchorEnd ? item.x - 4 - width : item.x;
      const to = anchorEnd ? item.x : item.x + 4 + width;
      let row = rowEnds.findIndex((end) => end + 10 <= from);
      if (row < 0) row = rowEnds.length;
      rowEnds[row] = to;
      return { ...item, row, anchorEnd };
    });
}

function bandTitle(b: FaultBand, outages: Outage[], namePaths: boolean): string {
  const who = b.members.length > 0 ? ` → ${b.members.join(", ")}` : "";
  const until = b.healed ? `${sec(b.end_ns)} s` : "end of run (never healed)";
  const writes = outages
    .map(
      (o) =>
        `\nwrites impossible${namePaths ? ` through ${o.group}` : ""} from ${sec(o.start_ns)} s · RTO ${formatSeconds(outageSeconds(o))}`,
    )
    .join("");
  return `fault ${b.fault} on ${b.target}${who}\n${sec(b.start_ns)} s – ${until}${writes}`;
}

/** What one interval is called and says, as verify found it: divergence, or two primaries by role. */
function splitBrainWhat(source: SplitBrainSource): { name: string; what: string } {
  return source === "acknowledged"
    ? { name: "split-brain", what: "both committed writes" }
    : { name: "dual primary", what: "both sampled primary" };
}

interface Lane {
  member: Member;
  y: number;
}

function layoutLanes(members: Member[], top: number): { lanes: Lane[]; bottom: number } {
  const lanes: Lane[] = [];
  let y = top;
  members.forEach((member, i) => {
    if (i > 0) y += LANE_GAP + (members[i - 1]?.kind !== member.kind ? GROUP_GAP : 0);
    lanes.push({ member, y });
    y += LANE_H;
  });
  return { lanes, bottom: lanes.length > 0 ? y : top };
}

function segmentRect(name: string, seg: RoleSegment, y: number, x: (ns: number) => number): string {
  const x1 = x(seg.start_ns);
  const w = x(seg.end_ns) - x1;
  if (w <= 0) return "";
  const tl = seg.timeline === null ? "" : ` · timeline ${seg.timeline}`;
  const how = seg.implied ? " (implied by the fault; not sampled)" : "";
  return `<rect class="seg r-${esc(seg.role)}${seg.implied ? " implied" : ""}" data-role="${esc(seg.role)}" x="${n(x1)}" y="${n(y)}" width="${n(Math.max(0.5, w))}" height="${LANE_H}"><title>${name}: ${esc(seg.role)}${tl}${how}\n${sec(seg.start_ns)} – ${sec(seg.end_ns)} s</title></rect>`;
}

export function renderTimelineSvg(
  record: RunRecord,
  verification: Verification,
  options: TimelineOptions = {},
): string {
  const window = options.window ?? fullWindow(record);
  const endNs = runEndNs(record);
  const x = xScale(window);
  const inView = (ns: number) => ns >= window.from_ns && ns <= window.to_ns;
  const bands = faultBands(record.timeline, endNs).filter(
    (b) => b.end_ns >= window.from_ns && b.start_ns <= window.to_ns,
  );
  const promotions = verification.promotions.filter((p) => inView(p.at_ns));
  const status = haStatusSegments(record.timeline, endNs);

  const namePaths = outagesNamePaths(verification.outages);
  // Verify's intervals: divergence from acknowledgements, two primaries from every observer's samples.
  const overlaps = [...verification.split_brain.intervals, ...verification.dual_primary.intervals].filter(
    (o) => o.end_ns >= window.from_ns && o.start_ns <= window.to_ns,
  );

  const labels = placeLabels([
    ...overlaps.map((o, i) => ({
      key: `split${i}`,
      x: x(o.start_ns),
      text: `${splitBrainWhat(o.source).name}: ${o.members.join(" + ")}`,
      color: "var(--c-fail)",
    })),
    ...bands.map((b, i) => ({
      key: `band${i}`,
      x: x(b.start_ns),
      text: `${b.fault} ${b.target}${b.members.length > 0 ? ` → ${b.members.join(", ")}` : ""}`,
      color: faultColor(b.fault),
    })),
    ...promotions.map((p, i) => ({
      key: `promo${i}`,
      x: x(p.at_ns),
      text: `promote ${p.member} · tl ${p.timeline}`,
      color: "var(--c-promo)",
    })),
  ]);
  const labelRows = Math.max(1, ...labels.map((l) => l.row + 1));
  const markTop = 4;
  // A marker's line starts at its own label's row, so it never crosses labels in rows above.
  const rowOf = new Map(labels.map((l) => [l.key, l.row]));
  const lineTop = (key: string) => markTop + (rowOf.get(key) ?? 0) * LABEL_ROW_H;
  const lanesTop = markTop + labelRows * LABEL_ROW_H + 8;
  const statusY = lanesTop;
  const membersTop = status.length > 0 ? statusY + LANE_H + LANE_GAP + GROUP_GAP : lanesTop;
  const { lanes, bottom: lanesBottom } = layoutLanes(record.members, membersTop);
  const wTop = lanesBottom + 22;
  const barsBottom = wTop + BARS_H;
  const failY = barsBottom + 5;
  const unknownY = failY + TICK_H + 3;
  const contentBottom = options.writes ? unknownY + TICK_H : lanesBottom;
  const axisY = contentBottom + 10;
  const height = axisY + 24;
  const laneY = new Map(lanes.map((l) => [l.member.name, l.y]));

  const out: string[] = [];
  out.push(
    `<svg class="timeline" viewBox="0 0 ${W} ${n(height)}" role="img" aria-label="Run timeline: member roles, faults, promotions${options.writes ? " and writes" : ""} over time">`,
  );
  out.push(axisSvg(window, lanesTop - 4, contentBottom, axisY));

  if (status.length > 0) {
    const source = status[0]?.source ?? "HA manager";
    out.push(`<g class="lane ha-lane" data-lane="ha-status">`);
    out.push(`<text class="lane-kind" x="8" y="${n(statusY + LANE_H / 2 + 4)}">reported</text>`);
    out.push(
      `<text class="lane-name" x="${LEFT - 10}" y="${n(statusY + LANE_H / 2 + 4)}" text-anchor="end">HA status</text>`,
    );
    out.push(
      `<rect class="r-none" x="${LEFT}" y="${n(statusY)}" width="${PLOT_W}" height="${LANE_H}"><title>${esc(source)}: no status read yet</title></rect>`,
    );
    for (const s of status) {
      if (s.end_ns < window.from_ns || s.start_ns > window.to_ns) continue;
      const x1 = x(s.start_ns);
      const w = Math.max(0.5, x(s.end_ns) - x1);
      out.push(
        `<rect class="seg ha-${s.state}" data-state="${s.state}" x="${n(x1)}" y="${n(statusY)}" width="${n(w)}" height="${LANE_H}" fill="${HA_COLORS[s.state]}"><title>${esc(`${s.source}: ${maskText(s.text)} (${HA_LABELS[s.state]})\n${sec(s.start_ns)} – ${sec(s.end_ns)} s`)}</title></rect>`,
      );
    }
    out.push(`</g>`);
  }

  if (lanes.length === 0) {
    out.push(`<text x="${LEFT}" y="${n(membersTop + 14)}">no members recorded</text>`);
  }
  for (const { member, y } of lanes) {
    const name = esc(member.name);
    const cy = y + LANE_H / 2;
    const sampled = roleSegments(record.timeline, member.name, endNs);
    const segments = sampled.length > 0 ? sampled : impliedSegments(bands, member.name);
    out.push(`<g class="lane" data-member="${name}">`);
    out.push(`<text class="lane-kind" x="8" y="${n(cy + 4)}">${esc(member.kind)}</text>`);
    out.push(`<text class="lane-name" x="${LEFT - 10}" y="${n(cy + 4)}" text-anchor="end">${name}</text>`);
    const blank = sampled.length > 0 ? "no role sample yet" : "role not sampled";
    out.push(
      `<rect class="r-none" x="${LEFT}" y="${n(y)}" width="${PLOT_W}" height="${LANE_H}"><title>${name} (${esc(member.kind)}, ${esc(member.address)}): ${blank}</title></rect>`,
    );
    for (const seg of segments) {
      if (seg.end_ns < window.from_ns || seg.start_ns > window.to_ns) continue;
      out.push(segmentRect(name, seg, y, x));
    }
    out.push(`</g>`);
  }

  // HA-manager events about a member: a small notch on the top edge of its lane.
  out.push(`<g class="ha-markers">`);
  for (const e of haEvents(record.timeline)) {
    const y = e.member === null ? undefined : laneY.get(e.member);
    if (y === undefined || !inView(e.at_ns)) continue;
    const ex = x(e.at_ns);
    // In the gap above the lane, so a dark segment (down) does not swallow it.
    out.push(
      `<path class="ha-mark" d="M${n(ex - 3.5)} ${n(y - 7)}L${n(ex + 3.5)} ${n(y - 7)}L${n(ex)} ${n(y - 1)}Z"><title>${esc(`${sec(e.at_ns)} s · ${e.source} · ${e.member ?? ""}\n${maskText(e.text)}`)}</title></path>`,
    );
  }
  out.push(`</g>`);

  bands.forEach((b, i) => {
    const x1 = x(b.start_ns);
    const x2 = x(b.end_ns);
    const w = n(Math.max(1, x2 - x1));
    const color = faultColor(b.fault);
    const outages = outagesOfBand(verification.outages, b);
    out.push(
      `<g class="fault-band" data-fault="${esc(b.fault)}" data-target="${esc(b.target)}" style="--fc:${color}">`,
    );
    out.push(`<title>${esc(bandTitle(b, outages, namePaths))}</title>`);
    out.push(
      `<rect class="band" x="${n(x1)}" y="${n(lanesTop - 4)}" width="${w}" height="${n(contentBottom - lanesTop + 8)}"/>`,
    );
    for (const m of b.members) {
      const y = laneY.get(m);
      if (y === undefined) continue;
      out.push(
        `<rect class="band-target" x="${n(x1)}" y="${n(y - 1)}" width="${w}" height="${LANE_H + 2}"/>`,
      );
    }
    if (inView(b.start_ns)) {
      out.push(
        `<line class="band-edge" x1="${n(x1)}" x2="${n(x1)}" y1="${n(lineTop(`band${i}`))}" y2="${n(contentBottom + 4)}"/>`,
      );
    }
    if (b.healed && inView(b.end_ns)) {
      out.push(
        `<line class="band-edge heal" x1="${n(x2)}" x2="${n(x2)}" y1="${n(lanesTop - 4)}" y2="${n(contentBottom + 4)}"/>`,
      );
    }
    out.push(`</g>`);
  });

  // Two members accepting writes at once: outlined across the lanes, where verify found it.
  overlaps.forEach((o, i) => {
    const x1 = x(o.start_ns);
    const w = n(Math.max(1, x(o.end_ns) - x1));
    out.push(
      `<g class="split-brain" data-source="${o.source}"><title>${esc(`${splitBrainWhat(o.source).name}: ${o.members.join(" and ")} ${splitBrainWhat(o.source).what}\n${sec(o.start_ns)} – ${sec(o.end_ns)} s`)}</title><rect class="split-band" x="${n(x1)}" y="${n(membersTop - 3)}" width="${w}" height="${n(lanesBottom - membersTop + 6)}"/><line class="split-edge" x1="${n(x1)}" x2="${n(x1)}" y1="${n(lineTop(`split${i}`))}" y2="${n(membersTop - 3)}"/></g>`,
    );
  });

  // Promotion markers: a line through every lane, a diamond on the promoted member's lane.
  promotions.forEach((p, i) => {
    const px = x(p.at_ns);
    const y = laneY.get(p.member);
    const cy = y === undefined ? lanesTop - 6 : y + LANE_H / 2;
    const fork = p.fork_lsn === null ? "" : ` · fork ${p.fork_lsn}`;
    out.push(`<g class="promotion-marker" data-member="${esc(p.member)}">`);
    out.push(
      `<title>${esc(`${p.member} promoted to timeline ${p.timeline}${fork}\nat ${sec(p.at_ns)} s · reported by ${p.source}`)}</title>`,
    );
    out.push(
      `<line class="promo-line" x1="${n(px)}" x2="${n(px)}" y1="${n(lineTop(`promo${i}`))}" y2="${n(contentBottom + 4)}"/>`,
    );
    out.push(
      `<path class="promo-diamond" d="M${n(px)} ${n(cy - 7)}L${n(px + 7)} ${n(cy)}L${n(px)} ${n(cy + 7)}L${n(px - 7)} ${n(cy)}Z"/>`,
    );
    out.push(`</g>`);
  });

  for (const l of labels) {
    const ly = markTop + l.row * LABEL_ROW_H + 11;
    const lx = l.anchorEnd ? l.x - 4 : l.x + 4;
    out.push(
      `<text class="mark-label" x="${n(lx)}" y="${n(ly)}" style="fill:${l.color}"${l.anchorEnd ? ` text-anchor="end"` : ""}>${esc(l.text)}</text>`,
    );
  }

  if (options.writes) {
    out.push(writesStrip(record, window, wTop, barsBottom, failY, unknownY));
    // The outages over the writes they are measured on, so compared runs show them side by side;
    // one row per entry point, stacked down into the bars, when clients wrote through several.
    const paths = [...new Set(verification.outages.map((o) => o.group))];
    for (const o of verification.outages) {
      if (o.end_ns === null) continue;
      if (o.end_ns < window.from_ns || o.start_ns > window.to_ns) continue;
      const x1 = x(o.start_ns);
      const x2 = x(o.end_ns);
      const y = wTop - 6 + paths.indexOf(o.group) * 12;
      const through = namePaths ? ` through ${o.group}` : "";
      const rto = outageSeconds(o);
      out.push(
        `<g class="rto-bracket" data-fault="${esc(o.fault)}" data-group="${esc(o.group)}"><title>${esc(`writes impossible${through} from ${sec(o.start_ns)} s to ${sec(o.end_ns)} s (RTO ${formatSeconds(rto, 3)})`)}</title><line x1="${n(x1)}" x2="${n(x2)}" y1="${n(y)}" y2="${n(y)}"/><line x1="${n(x1)}" x2="${n(x1)}" y1="${n(y - 4)}" y2="${n(y + 4)}"/><line x1="${n(x2)}" x2="${n(x2)}" y1="${n(y - 4)}" y2="${n(y + 4)}"/><text x="${n(x2 + 6)}" y="${n(y + 4)}">RTO ${formatSeconds(rto)}${esc(namePaths ? ` · ${o.group}` : "")}</text></g>`,
      );
    }
  }

  out.push(`</svg>`);
  return out.join("\n");
}

/** The compact writes strip: acknowledged per bucket as bars, failed and unknown as tick rows. */
function writesStrip(
  record: RunRecord,
  window: TimeWindow,
  wTop: number,
  barsBottom: number,
  failY: number,
  unknownY: number,
): string {
  const x = xScale(window);
  const buckets = workloadBuckets(record.history, runEndNs(record));
  const bw = (buckets.bucket_ns / (window.to_ns - window.from_ns)) * PLOT_W;
  const visible = (i: number) =>
    (i + 1) * buckets.bucket_ns > window.from_ns && i * buckets.bucket_ns < window.to_ns;
  const maxOk = Math.max(0, ...buckets.ok);
  const bucketMs = Math.round(buckets.bucket_ns / 1e6);
  const out: string[] = [`<g class="workload">`];
  out.push(
    `<text class="lane-name" x="${LEFT - 10}" y="${n(wTop + 12)}" text-anchor="end">acked writes</text>`,
  );
  out.push(
    `<text class="lane-kind" x="${LEFT - 10}" y="${n(wTop + 25)}" text-anchor="end">per ${bucketMs} ms${maxOk > 0 ? `, max ${maxOk}` : ""}</text>`,
  );
  out.push(`<text class="lane-kind" x="${LEFT - 10}" y="${n(failY + 7)}" text-anchor="end">failed</text>`);
  out.push(
    `<text class="lane-kind" x="${LEFT - 10}" y="${n(unknownY + 7)}" text-anchor="end">unknown</text>`,
  );
  out.push(`<line class="axis" x1="${LEFT}" x2="${W - RIGHT}" y1="${n(barsBottom)}" y2="${n(barsBottom)}"/>`);
  const span = (i: number) =>
    `${sec(i * buckets.bucket_ns).slice(0, -2)}–${sec((i + 1) * buckets.bucket_ns).slice(0, -2)} s`;
  buckets.ok.forEach((count, i) => {
    if (count === 0 || !visible(i)) return;
    const h = Math.max(1, (count / maxOk) * (BARS_H - 4));
    out.push(
      `<rect class="bar-ok" x="${n(x(i * buckets.bucket_ns))}" y="${n(barsBottom - h)}" width="${n(Math.max(0.8, bw - 0.6))}" height="${n(h)}"><title>${span(i)}: ${count} acknowledged</title></rect>`,
    );
  });
  const tickRow = (series: number[], cls: string, y: number, what: string) => {
    series.forEach((count, i) => {
      if (count === 0 || !visible(i)) return;
      out.push(
        `<rect class="${cls}" x="${n(x(i * buckets.bucket_ns))}" y="${n(y)}" width="${n(Math.max(1.5, bw - 0.6))}" height="${TICK_H}"><title>${span(i)}: ${count} ${what}</title></rect>`,
      );
    });
  };
  tickRow(buckets.fail, "tick-fail", failY, "failed");
  tickRow(buckets.unknown, "tick-unknown", unknownY, "unknown");
  out.push(`</g>`);
  return out.join("\n");
}
