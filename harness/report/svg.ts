/**
 * The run timeline as inline SVG: one swimlane per member coloured by sampled role, fault bands
 * across all lanes, promotion markers, and a workload strip on the same time axis.
 */
import type { Member, RunRecord } from "../run/record.ts";
import type { Verification } from "../verify/figures.ts";
import { escapeHtml as esc } from "./escape.ts";
import { formatSeconds, nsToS } from "./format.ts";
import { type FaultBand, faultBands, roleSegments, runEndNs, workloadBuckets } from "./model.ts";

const W = 1200;
const LEFT = 128;
const RIGHT = 24;
const PLOT_W = W - LEFT - RIGHT;
const LANE_H = 20;
const LANE_GAP = 7;
/** Extra space where the member kind changes (postgres → dcs), so groups read apart. */
const GROUP_GAP = 10;
const LABEL_ROW_H = 16;
const BARS_H = 56;
const TICK_H = 9;
/** Rough width of an 11px system-ui glyph; only used to keep labels from overlapping. */
const CHAR_W = 6.4;

/** Coordinates with one decimal keep the markup small without visible error. */
function n(x: number): string {
  return String(Math.round(x * 10) / 10);
}

function sec(ns: number): string {
  return nsToS(ns).toFixed(3);
}

/** A round tick step giving at most ~12 ticks over the run. */
export function tickStep(endS: number, maxTicks = 12): number {
  const steps = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1800, 3600];
  for (const step of steps) if (endS / step <= maxTicks) return step;
  return Math.ceil(endS / maxTicks / 3600) * 3600;
}

interface Label {
  key: string;
  x: number;
  text: string;
  cls: string;
  row: number;
  anchorEnd: boolean;
}

/** Greedy row assignment so band and promotion labels above the lanes never overlap. */
function placeLabels(items: { key: string; x: number; text: string; cls: string }[]): Label[] {
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

function bandTitle(b: FaultBand, rto: number | null | undefined): string {
  const who = b.members.length > 0 ? ` → ${b.members.join(", ")}` : "";
  const until = b.healed ? `${sec(b.end_ns)} s` : "end of run (never healed)";
  const rtoText = rto === undefined ? "" : `\nRTO ${formatSeconds(rto)}`;
  return `fault ${b.fault} on ${b.target}${who}\n${sec(b.start_ns)} s – ${until}${rtoText}`;
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

export function renderTimelineSvg(record: RunRecord, verification: Verification): string {
  const endNs = runEndNs(record);
  const x = (ns: number) => LEFT + (Math.min(Math.max(ns, 0), endNs) / endNs) * PLOT_W;
  const bands = faultBands(record.timeline, endNs);

  const labels = placeLabels([
    ...bands.map((b, i) => ({
      key: `band${i}`,
      x: x(b.start_ns),
      text: `${b.fault} ${b.target}${b.members.length > 0 ? ` → ${b.members.join(", ")}` : ""}`,
      cls: "band-label",
    })),
    ...verification.promotions.map((p, i) => ({
      key: `promo${i}`,
      x: x(p.at_ns),
      text: `promote ${p.member} · tl ${p.timeline}`,
      cls: "promo-label",
    })),
  ]);
  const labelRows = Math.max(1, ...labels.map((l) => l.row + 1));
  const markTop = 4;
  // A marker's line starts at its own label's row, so it never crosses labels in rows above.
  const rowOf = new Map(labels.map((l) => [l.key, l.row]));
  const lineTop = (key: string) => markTop + (rowOf.get(key) ?? 0) * LABEL_ROW_H;
  const lanesTop = markTop + labelRows * LABEL_ROW_H + 8;
  const { lanes, bottom: lanesBottom } = layoutLanes(record.members, lanesTop);
  const wTop = lanesBottom + 30;
  const barsBottom = wTop + BARS_H;
  const failY = barsBottom + 6;
  const unknownY = failY + TICK_H + 4;
  const wBottom = unknownY + TICK_H;
  const axisY = wBottom + 8;
  const height = axisY + 24;
  const laneY = new Map(lanes.map((l) => [l.member.name, l.y]));

  const out: string[] = [];
  out.push(
    `<svg class="timeline" viewBox="0 0 ${W} ${n(height)}" role="img" aria-label="Run timeline: member roles, faults, promotions and writes over time">`,
  );

  // Grid and axis first so everything else draws over them.
  const endS = nsToS(endNs);
  const step = tickStep(endS);
  const digits = step < 1 ? 1 : 0;
  out.push(`<g class="axis-group">`);
  for (let i = 0; i * step <= endS + 1e-9; i++) {
    const t = i * step;
    const tx = n(x(t * 1e9));
    out.push(`<line class="grid" x1="${tx}" x2="${tx}" y1="${n(lanesTop - 4)}" y2="${n(wBottom)}"/>`);
    out.push(`<line class="axis" x1="${tx}" x2="${tx}" y1="${n(axisY)}" y2="${n(axisY + 4)}"/>`);
    out.push(
      `<text class="tick" x="${tx}" y="${n(axisY + 16)}" text-anchor="middle">${t.toFixed(digits)} s</text>`,
    );
  }
  out.push(`<line class="axis" x1="${LEFT}" x2="${W - RIGHT}" y1="${n(axisY)}" y2="${n(axisY)}"/>`);
  out.push(`</g>`);

  // Swimlanes.
  if (lanes.length === 0) {
    out.push(`<text x="${LEFT}" y="${n(lanesTop + 14)}">no members recorded</text>`);
  }
  for (const { member, y } of lanes) {
    const name = esc(member.name);
    const cy = y + LANE_H / 2;
    out.push(`<g class="lane" data-member="${name}">`);
    out.push(`<text class="lane-kind" x="8" y="${n(cy + 4)}">${esc(member.kind)}</text>`);
    out.push(`<text class="lane-name" x="${LEFT - 10}" y="${n(cy + 4)}" text-anchor="end">${name}</text>`);
    out.push(
      `<rect class="r-none" x="${LEFT}" y="${n(y)}" width="${PLOT_W}" height="${LANE_H}"><title>${name} (${esc(member.kind)}, ${esc(member.address)}): no role sample</title></rect>`,
    );
    for (const seg of roleSegments(record.timeline, member.name, endNs)) {
      const x1 = x(seg.start_ns);
      const w = Math.max(0.5, x(seg.end_ns) - x1);
      const tl = seg.timeline === null ? "" : ` · timeline ${seg.timeline}`;
      out.push(
        `<rect class="seg r-${esc(seg.role)}" x="${n(x1)}" y="${n(y)}" width="${n(w)}" height="${LANE_H}"><title>${name}: ${esc(seg.role)}${tl}\n${sec(seg.start_ns)} – ${sec(seg.end_ns)} s</title></rect>`,
      );
    }
    out.push(`</g>`);
  }

  // Fault bands over the lanes and the workload strip, so both read against the same interval.
  bands.forEach((b, i) => {
    const x1 = x(b.start_ns);
    const x2 = x(b.end_ns);
    const w = n(Math.max(1, x2 - x1));
    const rto = verification.rto_per_fault.find(
      (r) => r.fault === b.fault && r.target === b.target && r.at_ns === b.start_ns,
    )?.rto_s;
    out.push(`<g class="fault-band" data-fault="${esc(b.fault)}" data-target="${esc(b.target)}">`);
    out.push(`<title>${esc(bandTitle(b, rto))}</title>`);
    out.push(
      `<rect class="band" x="${n(x1)}" y="${n(lanesTop - 4)}" width="${w}" height="${n(lanesBottom - lanesTop + 8)}"/>`,
    );
    out.push(
      `<rect class="band" x="${n(x1)}" y="${n(wTop - 4)}" width="${w}" height="${n(wBottom - wTop + 8)}"/>`,
    );
    for (const m of b.members) {
      const y = laneY.get(m);
      if (y === undefined) continue;
      out.push(
        `<rect class="band-target" x="${n(x1)}" y="${n(y - 1)}" width="${w}" height="${LANE_H + 2}"/>`,
      );
    }
    out.push(
      `<line class="band-edge" x1="${n(x1)}" x2="${n(x1)}" y1="${n(lineTop(`band${i}`))}" y2="${n(wBottom + 4)}"/>`,
    );
    if (b.healed) {
      out.push(
        `<line class="band-edge heal" x1="${n(x2)}" x2="${n(x2)}" y1="${n(lanesTop - 4)}" y2="${n(wBottom + 4)}"/>`,
      );
    }
    out.push(`</g>`);
  });

  // Promotion markers: a line through every lane, a diamond on the promoted member's lane.
  verification.promotions.forEach((p, i) => {
    const px = x(p.at_ns);
    const y = laneY.get(p.member);
    const cy = y === undefined ? lanesTop - 6 : y + LANE_H / 2;
    const fork = p.fork_lsn === null ? "" : ` · fork ${p.fork_lsn}`;
    out.push(`<g class="promotion-marker" data-member="${esc(p.member)}">`);
    out.push(
      `<title>${esc(`${p.member} promoted to timeline ${p.timeline}${fork}\nat ${sec(p.at_ns)} s · reported by ${p.source}`)}</title>`,
    );
    out.push(
      `<line class="promo-line" x1="${n(px)}" x2="${n(px)}" y1="${n(lineTop(`promo${i}`))}" y2="${n(wBottom + 4)}"/>`,
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
      `<text class="${l.cls}" x="${n(lx)}" y="${n(ly)}"${l.anchorEnd ? ` text-anchor="end"` : ""}>${esc(l.text)}</text>`,
    );
  }

  // Workload strip.
  const buckets = workloadBuckets(record.history, endNs);
  const bw = (buckets.bucket_ns / endNs) * PLOT_W;
  const maxOk = Math.max(0, ...buckets.ok);
  const bucketMs = Math.round(buckets.bucket_ns / 1e6);
  out.push(`<g class="workload">`);
  out.push(
    `<text class="lane-name" x="${LEFT - 10}" y="${n(wTop + 12)}" text-anchor="end">acked writes</text>`,
  );
  out.push(
    `<text class="lane-kind" x="${LEFT - 10}" y="${n(wTop + 26)}" text-anchor="end">per ${bucketMs} ms</text>`,
  );
  if (maxOk > 0) {
    out.push(
      `<text class="lane-kind" x="${LEFT - 10}" y="${n(barsBottom - 2)}" text-anchor="end">max ${maxOk}</text>`,
    );
  }
  out.push(`<text class="lane-kind" x="${LEFT - 10}" y="${n(failY + 8)}" text-anchor="end">failed</text>`);
  out.push(
    `<text class="lane-kind" x="${LEFT - 10}" y="${n(unknownY + 8)}" text-anchor="end">unknown</text>`,
  );
  out.push(`<line class="axis" x1="${LEFT}" x2="${W - RIGHT}" y1="${n(barsBottom)}" y2="${n(barsBottom)}"/>`);
  const span = (i: number) =>
    `${nsToS(i * buckets.bucket_ns).toFixed(1)}–${nsToS((i + 1) * buckets.bucket_ns).toFixed(1)} s`;
  buckets.ok.forEach((count, i) => {
    if (count === 0) return;
    const h = Math.max(1, (count / maxOk) * (BARS_H - 4));
    out.push(
      `<rect class="bar-ok" x="${n(x(i * buckets.bucket_ns))}" y="${n(barsBottom - h)}" width="${n(Math.max(0.8, bw - 0.6))}" height="${n(h)}"><title>${span(i)}: ${count} acknowledged</title></rect>`,
    );
  });
  const ticks = (series: number[], cls: string, y: number, what: string) => {
    series.forEach((count, i) => {
      if (count === 0) return;
      out.push(
        `<rect class="${cls}" x="${n(x(i * buckets.bucket_ns))}" y="${n(y)}" width="${n(Math.max(1.5, bw - 0.6))}" height="${TICK_H}"><title>${span(i)}: ${count} ${what}</title></rect>`,
      );
    });
  };
  ticks(buckets.fail, "tick-fail", failY, "failed");
  ticks(buckets.unknown, "tick-unknown", unknownY, "unknown");
  out.push(`</g>`);

  out.push(`</svg>`);
  return out.join("\n");
}
