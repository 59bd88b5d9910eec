/** The stylesheet of the run report and the invocation index, inlined into each page. */
import { MARK_COLORS, ROLE_COLORS } from "./palette.ts";

export const CSS = `
:root{--fg:#1d2330;--muted:#667085;--line:#e4e7ec;--bg:#f5f6f8;--card:#fff;
--pass:#1f7a46;--pass-bg:#e9f6ee;--pass-line:#b9e0c7;--fail:#c4291c;--fail-bg:#fdeeec;--fail-line:#f2c4bf;
--warn:#9a5b00;--warn-bg:#fff6e3;--warn-line:#f3d9a4;
--c-primary:${ROLE_COLORS.primary};--c-replica:${ROLE_COLORS.replica};--c-down:${ROLE_COLORS.down};
--c-unreachable:${ROLE_COLORS.unreachable};--c-frozen:${ROLE_COLORS.frozen};--c-none:${ROLE_COLORS.none};
--c-promo:${MARK_COLORS.promotion};--c-ha:${MARK_COLORS.ha};--c-ok:${MARK_COLORS.ok};--c-fail:${MARK_COLORS.fail};
--c-unknown:${MARK_COLORS.unknown};--c-p50:${MARK_COLORS.p50};--c-p99:${MARK_COLORS.p99};--c-rto:${MARK_COLORS.rto};
--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace}
*{box-sizing:border-box}
html{scroll-behavior:smooth;scroll-padding-top:56px}
body{margin:0;background:var(--bg);color:var(--fg);
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1240px;margin:0 auto;padding:16px 24px 24px}
a{color:#2f5bd3;text-decoration:none}a:hover{text-decoration:underline}
.topnav{position:sticky;top:0;z-index:5;background:rgba(255,255,255,.94);backdrop-filter:blur(4px);
border-bottom:1px solid var(--line)}
.topnav .in{max-width:1240px;margin:0 auto;padding:8px 24px;display:flex;align-items:center;gap:18px;flex-wrap:wrap;font-size:13px}
.topnav .brand{font-weight:750;letter-spacing:.02em}
.topnav .crumb{color:var(--muted);flex:1;min-width:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.topnav .links{display:flex;gap:14px;flex-wrap:wrap}.topnav .links a{color:var(--muted)}.topnav .links a:hover{color:var(--fg)}
.pill{display:inline-block;font-size:11px;font-weight:750;letter-spacing:.06em;padding:2px 8px;border-radius:999px;color:#fff}
.pill.pass{background:var(--pass)}.pill.fail{background:var(--fail)}
h1{font-size:22px;margin:0 0 4px;font-weight:650;word-break:break-word}
h2{font-size:12px;text-transform:uppercase;letter-spacing:.07em;color:var(--muted);margin:0 0 12px;font-weight:650}
h3{font-size:13px;margin:0 0 8px;font-weight:650}
.panel{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:18px 20px;margin:16px 0;min-width:0}
.panel .hint{color:var(--muted);font-size:12.5px;margin:-6px 0 12px;max-width:900px}
.banner{display:flex;align-items:center;gap:20px;border-radius:12px;padding:18px 22px;border:1px solid;margin-top:8px}
.banner.pass{background:var(--pass-bg);border-color:var(--pass-line)}
.banner.fail{background:var(--fail-bg);border-color:var(--fail-line)}
.verdict{font-weight:800;font-size:22px;letter-spacing:.1em;color:#fff;padding:10px 18px;border-radius:8px}
.pass .verdict{background:var(--pass)}.fail .verdict{background:var(--fail)}
.banner .what{flex:1;min-width:0}
.banner .desc{margin:0 0 6px;color:#344054}
.meta{display:flex;flex-wrap:wrap;gap:4px 18px;color:var(--muted);font-size:13px}
.meta b{color:var(--fg);font-weight:600}
.summary{text-align:right;font-size:13px;color:var(--muted);white-space:nowrap}
.summary b{display:block;font-size:20px;color:var(--fg)}
.row2{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:16px}
.row2>.panel,.row2>div>.panel{margin:16px 0 0}
ol.moments{list-style:none;margin:0;padding:0}
ol.moments li{display:grid;grid-template-columns:64px 14px minmax(0,1fr);gap:6px;align-items:baseline;padding:3px 0;font-size:13px}
ol.moments .mt{text-align:right;color:var(--muted);font-variant-numeric:tabular-nums;font-size:12px}
ol.moments .dot{width:9px;height:9px;border-radius:50%;display:inline-block;align-self:center}
@media (max-width:900px){.row2{grid-template-columns:1fr}}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:11px;color:var(--muted);font-weight:650;text-transform:uppercase;letter-spacing:.05em;background:var(--card)}
tr:last-child td{border-bottom:0}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
code,.mono{font-family:var(--mono);font-size:12.5px}
td.mono,td code{overflow-wrap:anywhere;word-break:break-word}
tr.fail td{background:#fff8f7}
.badge{display:inline-block;font-size:11px;font-weight:700;letter-spacing:.05em;padding:2px 9px;border-radius:999px}
.badge.pass{background:var(--pass-bg);color:var(--pass)}.badge.fail{background:var(--fail-bg);color:var(--fail)}
.badge.none{background:#eef0f3;color:var(--muted)}
.cards{display:grid;grid-template-columns:repeat(5,minmax(0,1fr));gap:12px}
@media (max-width:1100px){.cards{grid-template-columns:repeat(auto-fill,minmax(180px,1fr))}}
.card{border:1px solid var(--line);border-radius:10px;padding:11px 14px;min-width:0}
.card .label{font-size:12px;color:var(--muted)}
.card .value{font-size:24px;font-weight:650;font-variant-numeric:tabular-nums;margin-top:2px;white-space:nowrap}
.card .value.absent{color:#98a2b3}
.card .sub{font-size:12px;color:var(--muted);margin-top:2px}
.card.bad{border-color:var(--fail-line);background:var(--fail-bg)}.card.bad .value{color:var(--fail)}
.card.warn{border-color:var(--warn-line);background:var(--warn-bg)}.card.warn .value{color:var(--warn)}
.panel.problems{border-color:var(--warn-line);background:var(--warn-bg)}
.panel.problems h2{color:var(--warn)}
.panel.ok-note{color:var(--muted)}
.panel.headline{border-color:var(--fail-line);background:var(--fail-bg);padding:12px 20px}
.headline .why{margin:0;font-size:15px;font-weight:600;color:var(--fail)}
ol.evidence{list-style:none;margin:8px 0 0;padding:0;font-size:12.5px}
ol.evidence li{display:grid;grid-template-columns:72px minmax(0,1fr);gap:8px;padding:1px 0}
ol.evidence .mt{text-align:right;font-variant-numeric:tabular-nums}
.panel.diverged{border-color:var(--fail-line)}.panel.diverged h2{color:var(--fail)}
.divergence-table .ids{max-height:6em;overflow:auto;margin:0}
.divergence-table td.mono,.divergence-table .badge,.wal-loss-table td.mono{white-space:nowrap}
span.warn{color:var(--warn)}td.absent{color:#98a2b3}
table.ev tr:target{outline:2px solid var(--fail);background:var(--fail-bg)}
ul.plain{margin:0;padding-left:18px}ul.plain li{margin:2px 0}
.legend{display:flex;flex-wrap:wrap;align-items:center;gap:6px 16px;font-size:12px;color:var(--muted);margin:0 0 10px}
.legend .group{display:flex;flex-wrap:wrap;gap:6px 12px;align-items:center}
.legend .gl{font-weight:650;color:#475467;text-transform:uppercase;font-size:10.5px;letter-spacing:.06em}
.sw{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:-2px;margin-right:5px}
.sw.primary{background:var(--c-primary)}.sw.replica{background:var(--c-replica)}
.sw.down{background:var(--c-down)}.sw.unreachable{background:var(--c-unreachable)}.sw.frozen{background:var(--c-frozen)}
.sw.none{background:var(--c-none);border:1px solid #d8dce3}
.sw.implied{background:var(--c-down);opacity:.55;outline:1px dashed var(--c-down);outline-offset:1px}
.sw.fault{border:1px solid;border-radius:2px}
.sw.promo{background:var(--c-promo);transform:rotate(45deg) scale(.8)}
.sw.repoint{background:var(--c-ha);height:2px}
.sw.ha{width:0;height:0;border-left:5px solid transparent;border-right:5px solid transparent;border-top:7px solid var(--c-ha);border-radius:0;vertical-align:0}
.sw.ok{background:var(--c-ok)}.sw.failop{background:var(--c-fail)}.sw.unknownop{background:var(--c-unknown)}
.sw.line{height:3px;width:16px;vertical-align:3px;border-radius:0}
.sw.p50{background:var(--c-p50)}.sw.p99{background:var(--c-p99)}
.sw.split{background:rgba(217,45,32,.07);border:1.5px dashed var(--c-fail)}
.sw.rto{height:8px;border:2px solid var(--c-rto);border-top:0;border-radius:0;background:none;vertical-align:2px}
svg.timeline,svg.workload-chart{width:100%;height:auto;display:block;overflow:visible}
svg text{font:11px system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;fill:var(--muted)}
svg .lane-name{fill:var(--fg);font-weight:650}
svg .lane-kind{fill:#98a2b3;font-size:10px}
svg .tick{fill:#98a2b3;font-size:10.5px}
svg .r-none{fill:var(--c-none)}
svg .r-primary{fill:var(--c-primary)}svg .r-replica{fill:var(--c-replica)}svg .r-down{fill:var(--c-down)}
svg .r-unreachable{fill:var(--c-unreachable)}svg .r-frozen{fill:var(--c-frozen)}
svg .seg.implied{fill-opacity:.55;stroke:var(--c-down);stroke-dasharray:3 2}
svg .band{fill:var(--fc);fill-opacity:.1}
svg .band-edge{stroke:var(--fc);stroke-width:1.2}
svg .band-edge.heal{stroke-dasharray:3 3}
svg .band-target{fill:none;stroke:var(--fc);stroke-width:1.5}
svg .mark-label{font-weight:650}
svg .split-band{fill:var(--c-fail);fill-opacity:.07;stroke:var(--c-fail);stroke-width:1.5;stroke-dasharray:5 3}
svg .split-edge{stroke:var(--c-fail);stroke-width:1.2}
svg .promo-line{stroke:var(--c-promo);stroke-width:1.2;stroke-dasharray:4 3}
svg .repoint-line{stroke:var(--c-ha);stroke-width:1.2;stroke-dasharray:1 3}
svg .promo-diamond{fill:var(--c-promo);stroke:#fff;stroke-width:1.5}
svg .ha-mark{fill:var(--c-ha);stroke:#fff;stroke-width:.8}
svg .grid{stroke:#eef0f3}svg .grid.zero{stroke:#98a2b3;stroke-dasharray:2 2}svg .axis{stroke:#c5cad3}
svg .guide{stroke:#f0f1f4}
svg .bar-ok{fill:var(--c-ok)}svg .tick-fail{fill:var(--c-fail)}svg .tick-unknown{fill:var(--c-unknown)}
svg .rate-area{fill:var(--c-ok);fill-opacity:.8}
svg .lat-p50{fill:none;stroke:var(--c-p50);stroke-width:1.4;stroke-linejoin:round}
svg .lat-p99{fill:none;stroke:var(--c-p99);stroke-width:1.2;stroke-linejoin:round}
svg .lat-p50-dot{fill:var(--c-p50)}svg .lat-p99-dot{fill:var(--c-p99)}
svg .rto-bracket line{stroke:var(--c-rto);stroke-width:1.5}
svg .rto-bracket text{fill:var(--c-rto);font-weight:700}
svg .hover{fill:transparent}svg .hover:hover{fill:rgba(16,24,40,.06)}
svg .seg:hover,svg .ha-mark:hover,svg .bar-ok:hover{opacity:.75}
.tip{position:fixed;z-index:10;pointer-events:none;background:#101828;color:#fff;font-size:12px;line-height:1.4;
padding:6px 9px;border-radius:6px;white-space:pre-line;max-width:440px;box-shadow:0 4px 14px rgba(16,24,40,.25)}
.ids{font-family:var(--mono);font-size:12px;line-height:1.7;word-break:break-word;margin:0 0 12px}
.ids .more,.more{color:var(--muted)}
.hscroll{overflow-x:auto}
.compare th{white-space:nowrap}
.scroll{max-height:520px;overflow:auto;border:1px solid var(--line);border-radius:8px}
.scroll th{position:sticky;top:0;z-index:1;box-shadow:0 1px 0 var(--line)}
.kind{display:inline-block;font-size:11px;font-weight:650;padding:1px 8px;border-radius:4px;background:#eef0f3;color:#475467}
.kind.fault{background:var(--fail-bg);color:#b42318}.kind.promotion{background:#f1eafc;color:var(--c-promo)}
.kind.ha{background:#eaf0fc;color:#2f5bd3}.kind.role{background:#f2f4f7;color:var(--muted)}
tr.role td{color:var(--muted)}
tr.fault td{background:#fffafa}tr.promotion td{background:#fbf8ff}
.src{font-size:12px;color:var(--muted);white-space:nowrap}
.filters{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center;font-size:12.5px;color:#475467;margin:0 0 10px}
.filters label{display:inline-flex;gap:5px;align-items:center;cursor:pointer}
.filters input[type=search]{font:inherit;padding:4px 8px;border:1px solid var(--line);border-radius:6px;min-width:220px}
table.ev.hide-step tr.step,table.ev.hide-fault tr.fault,table.ev.hide-role tr.role,
table.ev.hide-promotion tr.promotion,table.ev.hide-ha tr.ha{display:none}
.cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:20px}
.cols>div{min-width:0}
table.kv{table-layout:fixed}table.kv td:first-child{width:50%}
table.kv td:first-child code{overflow-wrap:normal;word-break:normal}
table.kv tr.group td{background:#f9fafb;font-weight:650;font-size:12px;color:#475467;padding-top:8px}
table.kv td.key{padding-left:22px}
.muted{color:var(--muted)}
details{border:1px solid var(--line);border-radius:8px;margin:8px 0;background:#fff}
details>summary{cursor:pointer;padding:8px 12px;font-weight:600;list-style-position:inside}
details>summary .muted{font-weight:400;margin-left:8px}
details[open]>summary{border-bottom:1px solid var(--line)}
pre.source{margin:0;padding:12px 14px;font:12px/1.5 var(--mono);white-space:pre-wrap;overflow-wrap:anywhere;max-height:480px;overflow:auto}
.log{font:11.5px/1.5 var(--mono);max-height:420px;overflow:auto;padding:4px 0}
.ll{display:grid;grid-template-columns:68px minmax(0,1fr);gap:10px;padding:0 12px}
.ll .lt{color:#98a2b3;text-align:right;font-variant-numeric:tabular-nums}
.ll .lx{white-space:pre-wrap;overflow-wrap:anywhere}
.ll.error{background:#fef3f2}.ll.error .lx{color:#b42318}
.ll.warn{background:#fffaeb}.ll.warn .lx{color:#93370d}
.ll.mark{background:#f2f4f7;color:#344054;font-weight:650;margin:2px 0}
.ll.mark .lx{border-left:3px solid var(--fc,#667085);padding-left:8px}
.errs{color:var(--fail)}.warns{color:var(--warn)}
.matrix td,.matrix th{text-align:center;vertical-align:middle}
.matrix td:first-child,.matrix th:first-child{text-align:left}
.cell{display:block;padding:8px 10px;border-radius:8px;border:1px solid var(--line);color:var(--fg);min-width:150px}
.cell:hover{text-decoration:none;border-color:#98a2b3;box-shadow:0 1px 4px rgba(16,24,40,.08)}
.cell.pass{background:var(--pass-bg);border-color:var(--pass-line)}.cell.fail{background:var(--fail-bg);border-color:var(--fail-line)}
.cell .fig{display:block;font-size:12.5px;color:#344054;margin-top:3px;font-variant-numeric:tabular-nums}
.cell .fig.bad{color:var(--fail);font-weight:650}
.cell.empty{color:#98a2b3;background:#f9fafb;border-style:dashed}
td.bad{color:var(--fail);font-weight:650}td.warn{color:var(--warn);font-weight:650}
.compare td.best{font-weight:700;color:var(--pass)}.compare td.bad{color:var(--fail);font-weight:650}
.stack{display:flex;flex-direction:column;gap:10px;margin-top:14px}
.stack .run-head{display:flex;gap:10px;align-items:baseline;font-size:13px;margin:0 0 2px}
.stack .run-head b{font-size:14px}
footer{color:var(--muted);font-size:12px;text-align:center;padding:8px 0 24px}
@media print{.topnav{position:static}.scroll,.log{max-height:none}}
`;
