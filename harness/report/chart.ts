import type { Verification } from "../model/figures.ts";
/**
 * The workload chart as inline SVG, on the timeline's time axis: acknowledged writes per second,
 * latency p50 / p99 of acknowledged writes per bucket (log scale), failed and unknown writes as
 * tick rows, the same fault bands, promotion lines and an RTO bracket per fault.
 */
import type { RunRecord } from "../model/record.ts";
import { LEFT, PLOT_W, RIGHT, W, axisSvg, n, sec, xScale } from "./axis.ts";
import { escapeHtml as esc } from "./escape.ts";
import { formatSeconds } from "./format.ts";
import {
  type TimeWindow,
  faultBands,
  fullWindow,
  latencyBuckets,
  outageSeconds,
  outagesNamePaths,
  runEndNs,
  workloadBuckets,
} from "./model.ts";
import { faultColor } from "./palette.ts";

const TOP = 26;
const RATE_H = 110;
const LAT_H = 110;
const PANEL_GAP = 18;
const TICK_H = 8;

/** 1, 2, 2.5, 5 × 10^k at or above x, for a y-axis that ends on a round number. */
export function niceCeil(x: number): number {
  if (x <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x - 1e-9) return m * p;
  return 10 * p;
}

/** A latency in ns as a reader wants it: "0.4 ms", "12 ms", "1.5 s". */
export function formatLatency(ns: number): string {
  const ms = ns / 1e6;
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

function decadeLabel(ns: number): string {
  const ms = ns / 1e6;
  return ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`;
}

export interface ChartOptions {
  window?: TimeWindow;
}

export function renderWorkloadSvg(
  record: RunRecord,
  verification: Verification,
  options: ChartOptions = {},
): string {
  const window = options.window ?? fullWindow(record);
  const endNs = runEndNs(record);
  const x = xScale(window);
  const counts = workloadBuckets(record.history, endNs);
  const lat = latencyBuckets(record.history, endNs, counts.bucket_ns);
  const bucketNs = counts.bucket_ns;
  const perSecond = 1e9 / bucketNs;
  const bw = (bucketNs / Math.max(1, window.to_ns - window.from_ns)) * PLOT_W;
  const visible = (i: number) => (i + 1) * bucketNs > window.from_ns && i * bucketNs < window.to_ns;

  const rateTop = TOP;
  const rateBottom = rateTop + RATE_H;
  const latTop = rateBottom + PANEL_GAP;
  const latBottom = latTop + LAT_H;
  const failY = latBottom + 14;
  const unknownY = failY + TICK_H + 6;
  const contentBottom = unknownY + TICK_H;
  const axisY = contentBottom + 10;
  const height = axisY + 24;

  const maxRate = niceCeil(Math.max(0, ...counts.ok) * perSecond);
  const yRate = (r: number) => rateBottom - (r / maxRate) * (RATE_H - 4);

  const latencies = [...lat.p50, ...lat.p99].filter((v): v is number => v !== null && v > 0);
  const lo = latencies.length > 0 ? 10 ** Math.floor(Math.log10(Math.min(...latencies))) : 1e6;
  let hi = latencies.length > 0 ? 10 ** Math.ceil(Math.log10(Math.max(...latencies))) : 1e9;
  if (hi <= lo) hi = lo * 10;
  const yLat = (ns: number) =>
    latBottom - ((Math.log10(Math.max(ns, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * LAT_H;

  const out: string[] = [];
  out.push(
    `<svg class="workload-chart" viewBox="0 0 ${W} ${n(height)}" role="img" aria-label="Workload: acknowledged writes per second, latency p50 and p99, failed and unknown writes over time">`,
  );
  out.push(axisSvg(window, rateTop, contentBottom, axisY));

  // Y axes: rate and latency, with horizontal guides.
  out.push(`<g class="y-axes">`);
  for (const r of [0, maxRate / 2, maxRate]) {
    const y = n(yRate(r));
    out.push(`<line class="guide" x1="${LEFT}" x2="${W - RIGHT}" y1="${y}" y2="${y}"/>`);
    out.push(`<text class="tick" x="${LEFT - 8}" y="${n(yRate(r) + 4)}" text-anchor="end">${r}</text>`);
  }
  out.push(
    `<text class="lane-name" x="8" y="${n(rateTop + 12)}">writes/s</text><text class="lane-kind" x="8" y="${n(rateTop + 26)}">acknowledged</text>`,
  );
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    const y = n(yLat(d));
    out.push(`<line class="guide" x1="${LEFT}" x2="${W - RIGHT}" y1="${y}" y2="${y}"/>`);
    out.push(
      `<text class="tick" x="${LEFT - 8}" y="${n(yLat(d) + 4)}" text-anchor="end">${decadeLabel(d)}</text>`,
    );
  }
  out.push(
    `<text class="lane-name" x="8" y="${n(latTop + 12)}">latency</text><text class="lane-kind" x="8" y="${n(latTop + 26)}">p50 · p99, log</text>`,
  );
  out.push(`<text class="lane-kind" x="${LEFT - 8}" y="${n(failY + 7)}" text-anchor="end">failed</text>`);
  out.push(`<text class="lane-kind" x="${LEFT - 8}" y="${n(unknownY + 7)}" text-anchor="end">unknown</text>`);
  out.push(`<line class="axis" x1="${LEFT}" x2="${W - RIGHT}" y1="${rateBottom}" y2="${rateBottom}"/>`);
  out.push(`<line class="axis" x1="${LEFT}" x2="${W - RIGHT}" y1="${latBottom}" y2="${latBottom}"/>`);
  out.push(`</g>`);

  // Fault bands first, so the data draws over their tint.
  const bands = faultBands(record.timeline, endNs).filter(
    (b) => b.end_ns >= window.from_ns && b.start_ns <= window.to_ns,
  );
  for (const b of bands) {
    const x1 = x(b.start_ns);
    const w = n(Math.max(1, x(b.end_ns) - x1));
    const heal = b.healed
      ? `<line class="band-edge heal" x1="${n(x(b.end_ns))}" x2="${n(x(b.end_ns))}" y1="${rateTop - 4}" y2="${n(contentBottom + 4)}"/>`
      : "";
    out.push(
      `<g class="fault-band" data-fault="${esc(b.fault)}" style="--fc:${faultColor(b.fault)}"><rect class="band" x="${n(x1)}" y="${rateTop - 4}" width="${w}" height="${n(contentBottom - rateTop + 8)}"/><line class="band-edge" x1="${n(x1)}" x2="${n(x1)}" y1="${rateTop - 4}" y2="${n(contentBottom + 4)}"/>${heal}</g>`,
    );
  }

  // Acknowledged writes per second as a step area.
  const area: string[] = [];
  counts.ok.forEach((count, i) => {
    if (!visible(i)) return;
    const x1 = x(i * bucketNs);
    const x2 = x((i + 1) * bucketNs);
    const y = yRate(count * perSecond);
    area.push(area.length === 0 ? `M${n(x1)} ${rateBottom}L${n(x1)} ${n(y)}` : `L${n(x1)} ${n(y)}`);
    area.push(`L${n(x2)} ${n(y)}`);
  });
  if (area.length > 0) {
    const lastX = area.at(-1)?.match(/^L([\d.]+)/)?.[1] ?? String(LEFT);
    out.push(`<path class="rate-area" d="${area.join("")}L${lastX} ${rateBottom}Z"/>`);
  }

  // Latency lines, broken where no write was acknowledged; a lone bucket gets a dot so it shows.
  const line = (series: (number | null)[], cls: string) => {
    const parts: string[] = [];
    const dots: string[] = [];
    let open = false;
    series.forEach((v, i) => {
      if (v === null || !visible(i)) {
        open = false;
        return;
      }
      const px = x((i + 0.5) * bucketNs);
      const py = yLat(v);
      parts.push(`${open ? "L" : "M"}${n(px)} ${n(py)}`);
      const lonely = (series[i - 1] ?? null) === null && (series[i + 1] ?? null) === null;
      if (lonely) dots.push(`<circle class="${cls}-dot" cx="${n(px)}" cy="${n(py)}" r="2"/>`);
      open = true;
    });
    if (parts.length > 0) out.push(`<path class="${cls}" d="${parts.join("")}"/>`);
    out.push(...dots);
  };
  line(lat.p99, "lat-p99");
  line(lat.p50, "lat-p50");

  const tickRow = (series: number[], cls: string, y: number) => {
    series.forEach((count, i) => {
      if (count === 0 || !visible(i)) return;
      out.push(
        `<rect class="${cls}" x="${n(x(i * bucketNs))}" y="${n(y)}" width="${n(Math.max(1.5, bw - 0.4))}" height="${TICK_H}"/>`,
      );
    });
  };
  tickRow(counts.fail, "tick-fail", failY);
  tickRow(counts.unknown, "tick-unknown", unknownY);

  for (const p of verification.promotions) {
    if (p.at_ns < window.from_ns || p.at_ns > window.to_ns) continue;
    const px = n(x(p.at_ns));
    out.push(
      `<line class="promo-line" x1="${px}" x2="${px}" y1="${rateTop - 4}" y2="${n(contentBottom + 4)}"><title>${esc(`${p.member} promoted to timeline ${p.timeline} at ${sec(p.at_ns)} s`)}</title></line>`,
    );
  }

  // The name's re-pointings (dns entry point): when clients by name could reach the new primary.
  for (const r of verification.name_service?.repointings ?? []) {
    if (r.repointed_ns === null || r.repointed_ns < window.from_ns || r.repointed_ns > window.to_ns) continue;
    const px = n(x(r.repointed_ns));
    out.push(
      `<line class="repoint-line" x1="${px}" x2="${px}" y1="${rateTop - 4}" y2="${n(contentBottom + 4)}"><title>${esc(`${verification.name_service?.name} re-pointed at ${r.member} at ${sec(r.repointed_ns)} s`)}</title></line>`,
    );
  }

  // RTO brackets: verify's outages, from the outage start to the first new ack; one row per entry
  // point when clients wrote through several.
  const namePaths = outagesNamePaths(verification.outages);
  const paths = [...new Set(verification.outages.map((o) => o.group))];
  for (const outage of verification.outages) {
    if (outage.end_ns === null) continue;
    const from = outage.start_ns;
    const to = outage.end_ns;
    if (to < window.from_ns || from > window.to_ns) continue;
    const x1 = x(from);
    const x2 = x(to);
    const y = rateTop + 8 + paths.indexOf(outage.group) * 16;
    const rto = outageSeconds(outage);
    const through = namePaths ? ` through ${outage.group}` : "";
    const text = `RTO ${formatSeconds(rto)}${namePaths ? ` · ${outage.group}` : ""}`;
    const room = x2 - x1 > text.length * 6.4 + 12;
    const lx = room ? (x1 + x2) / 2 : x2 + 6;
    out.push(
      `<g class="rto-bracket" data-fault="${esc(outage.fault)}" data-group="${esc(outage.group)}"><title>${esc(`${outage.fault} ${outage.target}: writes impossible${through} from ${sec(from)} s to ${sec(to)} s (RTO ${formatSeconds(rto, 3)})`)}</title>` +
        `<line x1="${n(x1)}" x2="${n(x2)}" y1="${y}" y2="${y}"/><line x1="${n(x1)}" x2="${n(x1)}" y1="${y - 5}" y2="${y + 5}"/><line x1="${n(x2)}" x2="${n(x2)}" y1="${y - 5}" y2="${y + 5}"/>` +
        `<text x="${n(lx)}" y="${y - 6}"${room ? ` text-anchor="middle"` : ""}>${esc(text)}</text></g>`,
    );
  }

  // Hover columns last, on top: each bucket's numbers in one tooltip.
  out.push(`<g class="hover-cols">`);
  counts.ok.forEach((ok, i) => {
    const fail = counts.fail[i] ?? 0;
    const unknown = counts.unknown[i] ?? 0;
    if (ok + fail + unknown === 0 || !visible(i)) return;
    const p50 = lat.p50[i] ?? null;
    const p99 = lat.p99[i] ?? null;
    const latText =
      p50 === null || p99 === null ? "" : `\np50 ${formatLatency(p50)} · p99 ${formatLatency(p99)}`;
    const tip = `${sec(i * bucketNs)}–${sec((i + 1) * bucketNs)} s\n${ok} acknowledged (${Math.round(ok * perSecond)}/s)${latText}${fail > 0 ? `\n${fail} failed` : ""}${unknown > 0 ? `\n${unknown} unknown` : ""}`;
    out.push(
      `<rect class="hover" x="${n(x(i * bucketNs))}" y="${rateTop}" width="${n(Math.max(1, bw))}" height="${n(contentBottom - rateTop)}"><title>${esc(tip)}</title></rect>`,
    );
  });
  out.push(`</g>`);

  out.push(`</svg>`);
  return out.join("\n");
}
