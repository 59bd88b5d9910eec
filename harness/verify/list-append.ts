/**
 * An Elle-style checker for list-append transactions (Kingsbury & Alvaro, "Elle: Inferring Isolation
 * Anomalies from Experimental Observations"). Append values are unique, so the longest read of a key
 * is its version order, and every read names the transactions it depends on: write-write (ww:
 * consecutive appends), write-read (wr: the append a read ends with) and read-write (rw: the append
 * right after what a read saw). Cycles in that graph are isolation anomalies.
 *
 * Checked: G0 (ww cycle), G1c (ww/wr cycle with a wr), G-single (exactly one rw), G2-item (two or
 * more rw), G1a (a read of a failed transaction's append), G1b (a read ending in a value its writer
 * later overwrote with another append to the same key), internal inconsistency (a read that does not
 * match what the transaction itself appended or read before), duplicate elements, and incompatible
 * orders (a read that is not a prefix of the longest read: what a lost append looks like).
 * Not checked: real-time and process order (so no strict-serializability claim from cycles),
 * G-nonadjacent, predicate-based G2, and anything outside the list-append model.
 * Unknown transactions count only through appends some read observed; failed ones make no edges.
 */

import type { MicroOp, WriteOperation } from "../workload/history.ts";

export const TXN_ANOMALY_KINDS = [
  "G0",
  "G1a",
  "G1b",
  "G1c",
  "G-single",
  "G2-item",
  "incompatible-order",
  "duplicate-elements",
  "internal",
] as const;
export type TxnAnomalyKind = (typeof TXN_ANOMALY_KINDS)[number];

export type DependencyType = "ww" | "wr" | "rw";

/** One edge of a cycle: `from` must precede `to` because of `value` on `key`. */
export interface DependencyStep {
  from: number;
  to: number;
  type: DependencyType;
  key: number;
  /** ww and rw: the value `to` appended; wr: the value `to` read last (appended by `from`). */
  value: number;
}

export interface TxnAnomaly {
  kind: TxnAnomalyKind;
  /** Ledger ids of the transactions involved. */
  txns: number[];
  text: string;
  cycle: DependencyStep[] | null;
}

export interface ListAppendCheck {
  /** Transactions attempted. */
  transactions: number;
  /** Transactions acknowledged. */
  committed: number;
  anomalies: TxnAnomaly[];
  counts: Record<TxnAnomalyKind, number>;
}

type Txn = WriteOperation & { txn: MicroOp[] };
type Read = { f: "r"; key: number; value: number[] };

/** A key's version order: its longest read, who read it, and what the checks need to know of it. */
interface VersionOrder {
  list: number[];
  reader: Txn;
  /** No value twice. */
  unique: boolean;
  /** Position of the first value a failed transaction appended; -1: none. */
  firstFailed: number;
}

/** Who appended a value, and whether it was that transaction's last append to the key. */
interface Append {
  txn: Txn;
  /** The transaction's node in the dependency graph (its place among the history's transactions). */
  index: number;
  key: number;
  last: boolean;
}

const TYPE_CODE: Record<DependencyType, number> = { ww: 1, wr: 2, rw: 4 };
const TYPE_OF: DependencyType[] = [];
TYPE_OF[1] = "ww";
TYPE_OF[2] = "wr";
TYPE_OF[4] = "rw";

function isTxn(op: WriteOperation): op is Txn {
  return op.txn !== undefined;
}

function isRead(op: MicroOp): op is Read {
  return op.f === "r" && op.value !== null;
}

export function checkListAppend(history: readonly WriteOperation[]): ListAppendCheck {
  const txns = history.filter(isTxn);
  const anomalies: TxnAnomaly[] = [];
  const appends = new Map<number, Append>();
  txns.forEach((txn, index) => {
    const ops = txn.txn;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i] as MicroOp;
      if (op.f !== "append") continue;
      // A handful of micro-ops: a scan is cheaper than a map per transaction.
      let last = true;
      for (let j = i + 1; j < ops.length; j++)
        if (ops[j]?.f === "append" && ops[j]?.key === op.key) last = false;
      appends.set(op.value, { txn, index, key: op.key, last });
    }
  });
  const committed = txns.filter((t) => t.outcome === "ok");

  // Version order per key: its longest read. Ties are fine: a read of equal length must be equal.
  const order = new Map<number, VersionOrder>();
  for (const txn of committed) {
    for (const op of txn.txn) {
      if (!isRead(op)) continue;
      const known = order.get(op.key);
      if (known === undefined || op.value.length > known.list.length)
        order.set(op.key, { list: op.value, reader: txn, unique: true, firstFailed: -1 });
    }
  }
  // Values are unique, so a prefix of a list without duplicates has none, and sees a failed
  // transaction's append exactly when it reaches past the first one: each order is scanned once.
  for (const entry of order.values()) {
    entry.unique = new Set(entry.list).size === entry.list.length;
    entry.firstFailed = entry.list.findIndex((value) => appends.get(value)?.txn.outcome === "fail");
  }

  const incompatible = new Set<number>();
  const seen = new Set<string>();
  const once = (key: string): boolean => {
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  };
  for (const txn of committed) {
    for (const op of txn.txn) {
      if (!isRead(op)) continue;
      const list = op.value;
      const longest = order.get(op.key);
      const prefix = longest !== undefined && list.every((value, index) => longest.list[index] === value);
      const duplicates = prefix && longest.unique ? false : new Set(list).size !== list.length;
      if (duplicates && once(`dup ${txn.id} ${op.key}`)) {
        anomalies.push({
          kind: "duplicate-elements",
          txns: [txn.id],
          text: `duplicate-elements: txn ${txn.id} read key ${op.key} as [${list.join(" ")}]`,
          cycle: null,
        });
      }
      if (!prefix && longest !== undefined && !incompatible.has(op.key)) {
        incompatible.add(op.key);
        anomalies.push({
          kind: "incompatible-order",
          txns: [txn.id, longest.reader.id],
          text: `incompatible-order: key ${op.key} read as [${list.join(" ")}] by txn ${txn.id}, but as [${longest.list.join(" ")}] by txn ${longest.reader.id}`,
          cycle: null,
        });
      }
      const failed = prefix
        ? longest.firstFailed >= 0 && longest.firstFailed < list.length
          ? [list[longest.firstFailed] as number]
          : []
        : list;
      for (const value of failed) {
        const writer = appends.get(value);
        if (writer?.txn.outcome === "fail" && once(`g1a ${txn.id} ${writer.txn.id}`)) {
          anomalies.push({
            kind: "G1a",
            txns: [txn.id, writer.txn.id],
            text: `G1a: txn ${txn.id} read ${value} on key ${op.key}, appended by txn ${writer.txn.id}, which failed`,
            cycle: null,
          });
        }
      }
      const lastValue = list.at(-1);
      const writer = lastValue === undefined ? undefined : appends.get(lastValue);
      if (writer && !writer.last && writer.txn !== txn && once(`g1b ${txn.id} ${lastValue}`)) {
        anomalies.push({
          kind: "G1b",
          txns: [txn.id, writer.txn.id],
          text: `G1b: txn ${txn.id} read key ${op.key} ending in ${lastValue}, an intermediate append of txn ${writer.txn.id}`,
          cycle: null,
        });
      }
    }
    const internal = internalInconsistency(txn);
    if (internal !== null) anomalies.push(internal);
  }

  anomalies.push(...cycles(txns, order, appends));
  const counts = Object.fromEntries(TXN_ANOMALY_KINDS.map((kind) => [kind, 0])) as Record<
    TxnAnomalyKind,
    number
  >;
  for (const anomaly of anomalies) counts[anomaly.kind] += 1;
  return { transactions: txns.length, committed: committed.length, anomalies, counts };
}

/** A read must show what the transaction itself did: its earlier read plus its own appends since. */
function internalInconsistency(txn: Txn): TxnAnomaly | null {
  // Per key: the list known so far (from a read), or only the transaction's own appends (no read yet).
  const state = new Map<number, { read: boolean; list: number[] }>();
  for (const op of txn.txn) {
    const known = state.get(op.key) ?? { read: false, list: [] };
    if (op.f === "append") {
      state.set(op.key, { read: known.read, list: [...known.list, op.value] });
      continue;
    }
    if (op.value === null) continue;
    const list = op.value;
    const fits = known.read
      ? list.length === known.list.length && list.every((v, i) => v === known.list[i])
      : known.list.every((v, i) => list[list.length - known.list.length + i] === v) &&
        list.length >= known.list.length;
    if (!fits) {
      const expected = known.read
        ? `[${known.list.join(" ")}]`
        : `a list ending in [${known.list.join(" ")}]`;
      return {
        kind: "internal",
        txns: [txn.id],
        text: `internal: txn ${txn.id} read key ${op.key} as [${list.join(" ")}], expected ${expected}`,
        cycle: null,
      };
    }
    state.set(op.key, { read: true, list });
  }
  return null;
}

/** The dependency graph in compressed rows: edges by source, each with its type, key and value. */
interface Graph {
  ids: number[];
  start: Int32Array;
  target: Int32Array;
  type: Uint8Array;
  key: Float64Array;
  value: Float64Array;
}

/** Nodes are the history's transactions by position (those without edges cost nothing). */
function buildGraph(
  txns: readonly Txn[],
  order: Map<number, { list: number[] }>,
  appends: Map<number, Append>,
): Graph {
  const ids = txns.map((txn) => txn.id);
  const from: number[] = [];
  const to: number[] = [];
  const types: number[] = [];
  const keys: number[] = [];
  const values: number[] = [];
  const edge = (a: number, b: number, type: DependencyType, key: number, value: number) => {
    if (a === b || txns[a]?.outcome === "fail" || txns[b]?.outcome === "fail") return;
    from.push(a);
    to.push(b);
    types.push(TYPE_CODE[type]);
    keys.push(key);
    values.push(value);
  };
  for (const [key, { list }] of order) {
    for (let i = 1; i < list.length; i++) {
      const a = appends.get(list[i - 1] as number);
      const b = appends.get(list[i] as number);
      if (a && b) edge(a.index, b.index, "ww", key, list[i] as number);
    }
  }
  for (const [index, txn] of txns.entries()) {
    if (txn.outcome !== "ok") continue;
    for (const op of txn.txn) {
      if (!isRead(op)) continue;
      const versions = order.get(op.key)?.list ?? [];
      const length = op.value.length;
      // Reads that are not a prefix are reported as incompatible; their dependencies are unknowable.
      if (length > 0 && versions[length - 1] !== op.value[length - 1]) continue;
      const last = op.value[length - 1];
      const writer = last === undefined ? undefined : appends.get(last);
      if (writer && last !== undefined) edge(writer.index, index, "wr", op.key, last);
      const next = versions[length];
      const overwriter = next === undefined ? undefined : appends.get(next);
      if (overwriter && next !== undefined) edge(index, overwriter.index, "rw", op.key, next);
    }
  }
  const n = ids.length;
  const start = new Int32Array(n + 1);
  for (const a of from) start[a + 1] = (start[a + 1] as number) + 1;
  for (let i = 0; i < n; i++) start[i + 1] = (start[i + 1] as number) + (start[i] as number);
  const fill = start.slice(0, n);
  const m = from.length;
  const target = new Int32Array(m);
  const type = new Uint8Array(m);
  const key = new Float64Array(m);
  const value = new Float64Array(m);
  for (let e = 0; e < m; e++) {
    const a = from[e] as number;
    const slot = fill[a] as number;
    fill[a] = slot + 1;
    target[slot] = to[e] as number;
    type[slot] = types[e] as number;
    key[slot] = keys[e] as number;
    value[slot] = values[e] as number;
  }
  return { ids, start, target, type, key, value };
}

/** Strongly connected components over the edges whose type is in `mask` (iterative Tarjan). */
function components(graph: Graph, mask: number): Int32Array {
  const n = graph.ids.length;
  const component = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const number = new Int32Array(n).fill(-1);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const frames: number[] = [];
  const cursor = new Int32Array(n);
  let counter = 0;
  let componentCount = 0;
  for (let root = 0; root < n; root++) {
    if (number[root] !== -1) continue;
    frames.push(root);
    number[root] = low[root] = counter++;
    cursor[root] = graph.start[root] as number;
    stack.push(root);
    onStack[root] = 1;
    while (frames.length > 0) {
      const v = frames[frames.length - 1] as number;
      const end = graph.start[v + 1] as number;
      let descended = false;
      while ((cursor[v] as number) < end) {
        const e = cursor[v] as number;
        cursor[v] = e + 1;
        if (((graph.type[e] as number) & mask) === 0) continue;
        const w = graph.target[e] as number;
        if (number[w] === -1) {
          number[w] = low[w] = counter++;
          cursor[w] = graph.start[w] as number;
          stack.push(w);
          onStack[w] = 1;
          frames.push(w);
          descended = true;
          break;
        }
        if (onStack[w]) low[v] = Math.min(low[v] as number, number[w] as number);
      }
      if (descended) continue;
      frames.pop();
      const parent = frames[frames.length - 1];
      if (parent !== undefined) low[parent] = Math.min(low[parent] as number, low[v] as number);
      if (low[v] === number[v]) {
        let w: number;
        do {
          w = stack.pop() as number;
          onStack[w] = 0;
          component[w] = componentCount;
        } while (w !== v);
        componentCount++;
      }
    }
  }
  return component;
}

/** Shortest path from `source` to `sink` inside one component over `mask` edges, as edge indices. */
function path(
  graph: Graph,
  component: Int32Array,
  mask: number,
  source: number,
  sink: number,
): number[] | null {
  const inside = component[source];
  const via = new Map<number, number>([[source, -1]]);
  const queue = [source];
  for (let head = 0; head < queue.length; head++) {
    const v = queue[head] as number;
    if (v === sink) break;
    for (let e = graph.start[v] as number; e < (graph.start[v + 1] as number); e++) {
      if (((graph.type[e] as number) & mask) === 0) continue;
      const w = graph.target[e] as number;
      if (component[w] !== inside || via.has(w)) continue;
      via.set(w, e);
      queue.push(w);
    }
  }
  if (!via.has(sink)) return null;
  const edges: number[] = [];
  for (let v = sink; v !== source; ) {
    const e = via.get(v) as number;
    edges.unshift(e);
    v = sourceOf(graph, e);
  }
  return edges;
}

function sourceOf(graph: Graph, edge: number): number {
  // Binary search of the row that holds the edge.
  let lo = 0;
  let hi = graph.ids.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((graph.start[mid] as number) <= edge) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function step(graph: Graph, edge: number): DependencyStep {
  return {
    from: graph.ids[sourceOf(graph, edge)] as number,
    to: graph.ids[graph.target[edge] as number] as number,
    type: TYPE_OF[graph.type[edge] as number] as DependencyType,
    key: graph.key[edge] as number,
    value: graph.value[edge] as number,
  };
}

function cycleAnomaly(kind: TxnAnomalyKind, steps: DependencyStep[]): TxnAnomaly {
  const first = steps[0] as DependencyStep;
  const text = `${kind}: txn ${first.from}${steps.map((s) => ` → ${s.type}(key ${s.key}, ${s.value}) → txn ${s.to}`).join("")}`;
  return { kind, txns: steps.map((s) => s.from), text, cycle: steps };
}

const WW = TYPE_CODE.ww;
const WW_WR = TYPE_CODE.ww | TYPE_CODE.wr;
const ALL = WW_WR | TYPE_CODE.rw;
/** How many rw edges of one component are tried for a G-single before it is called G2-item. */
const SINGLE_TRIES = 64;

/**
 * One representative cycle per kind and component, as Elle reports. In a component every edge lies
 * on a cycle, so one edge of the wanted type and a path back close it.
 */
function cycles(
  txns: readonly Txn[],
  order: Map<number, { list: number[] }>,
  appends: Map<number, Append>,
): TxnAnomaly[] {
  const graph = buildGraph(txns, order, appends);
  const found: TxnAnomaly[] = [];
  const n = graph.ids.length;
  const edgesOf = (component: Int32Array, mask: number, type: number) => {
    // First edge of `type` inside each non-trivial component.
    const byComponent = new Map<number, number[]>();
    for (let v = 0; v < n; v++) {
      for (let e = graph.start[v] as number; e < (graph.start[v + 1] as number); e++) {
        if (graph.type[e] !== type || ((graph.type[e] as number) & mask) === 0) continue;
        const w = graph.target[e] as number;
        if (component[v] !== component[w]) continue;
        const list = byComponent.get(component[v] as number) ?? [];
        list.push(e);
        byComponent.set(component[v] as number, list);
      }
    }
    return byComponent;
  };
  const close = (component: Int32Array, mask: number, edge: number, pathMask = mask) => {
    const v = sourceOf(graph, edge);
    const back = path(graph, component, pathMask, graph.target[edge] as number, v);
    return back === null ? null : [edge, ...back].map((e) => step(graph, e));
  };

  // Every cycle lies inside a component of the whole graph: without one, there is nothing to find.
  const all = components(graph, ALL);
  const cyclic = [TYPE_CODE.ww, TYPE_CODE.wr, TYPE_CODE.rw].some((type) => edgesOf(all, ALL, type).size > 0);
  if (!cyclic) return found;
  const ww = components(graph, WW);
  for (const [, edges] of edgesOf(ww, WW, TYPE_CODE.ww)) {
    const cycle = close(ww, WW, edges[0] as number);
    if (cycle) found.push(cycleAnomaly("G0", cycle));
  }
  const wwWr = components(graph, WW_WR);
  for (const [, edges] of edgesOf(wwWr, WW_WR, TYPE_CODE.wr)) {
    const cycle = close(wwWr, WW_WR, edges[0] as number);
    if (cycle) found.push(cycleAnomaly("G1c", cycle));
  }
  for (const [, edges] of edgesOf(all, ALL, TYPE_CODE.rw)) {
    let single: DependencyStep[] | null = null;
    for (const edge of edges.slice(0, SINGLE_TRIES)) {
      // Back from the rw edge over ww/wr only: exactly one anti-dependency in the cycle.
      single = close(all, ALL, edge, WW_WR);
      if (single) break;
    }
    if (single) {
      found.push(cycleAnomaly("G-single", single));
      continue;
    }
    const cycle = close(all, ALL, edges[0] as number);
    const antiDependencies = cycle?.filter((s) => s.type === "rw").length ?? 0;
    if (cycle) found.push(cycleAnomaly(antiDependencies === 1 ? "G-single" : "G2-item", cycle));
  }
  return found;
}
