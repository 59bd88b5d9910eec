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

import {
  type DependencyStep,
  type DependencyType,
  type ListAppendCheck,
  TXN_ANOMALY_KINDS,
  type TxnAnomaly,
  type TxnAnomalyKind,
} from "../model/figures.ts";
import type { MicroOp, WriteOperation } from "../model/history.ts";

type Txn = WriteOperation & { txn: MicroOp[] };

/** A key's version order: its longest read, who read it, and what the checks need to know of it. */
interface VersionOrder {
  list: number[];
  reader: Txn;
  /** No value twice. */
  unique: boolean;
  /** Position of the first value a failed transaction appended; -1: none. */
  firstFailed: number;
  /** Where the writers of `list` start in the shared writer table. */
  offset: number;
  /** As the `Map` holds it (+0 for ±0). */
  key: number;
}

/**
 * Who appended each value, as a number so a million appends cost no objects: the writer's node in
 * the dependency graph (its place among the history's transactions) × 2, plus 1 when it was that
 * transaction's last append to the key; -1: nobody. An open-addressing table in typed arrays, with
 * a `Map`'s key equality (SameValueZero), sized once: a `Map` of a million numbers rehashes as it
 * grows, and every one of its allocations makes the collector walk the whole history again.
 */
class Appends {
  private readonly keys: Float64Array;
  private readonly writers: Int32Array;
  private readonly shift: number;
  private readonly mask: number;
  private nan = -1;
  private static readonly bits = new Float64Array(1);
  private static readonly halves = new Int32Array(Appends.bits.buffer);

  constructor(capacity: number) {
    let bits = 4;
    // At most two thirds full: short probes, and few megabytes (each one the collector counts).
    while (1 << bits < capacity + (capacity >> 1) && bits < 30) bits++;
    this.keys = new Float64Array(1 << bits);
    this.writers = new Int32Array(1 << bits).fill(-1);
    this.shift = 32 - bits;
    this.mask = (1 << bits) - 1;
  }

  private slot(value: number): number {
    let hash: number;
    if ((value | 0) === value) hash = value | 0;
    else {
      Appends.bits[0] = value;
      hash = ((Appends.halves[0] as number) ^ Math.imul(Appends.halves[1] as number, 0x85ebca6b)) | 0;
    }
    let slot = Math.imul(hash, 0x9e3779b1) >>> this.shift;
    while (this.writers[slot] !== -1 && this.keys[slot] !== value) slot = (slot + 1) & this.mask;
    return slot;
  }

  set(value: number, writer: number): void {
    if (Number.isNaN(value)) {
      this.nan = writer;
      return;
    }
    const slot = this.slot(value);
    this.keys[slot] = value;
    this.writers[slot] = writer;
  }

  get(value: number): number {
    if (Number.isNaN(value)) return this.nan;
    return this.writers[this.slot(value)] as number;
  }
}

const TYPE_CODE: Record<DependencyType, number> = { ww: 1, wr: 2, rw: 4 };
const TYPE_OF: DependencyType[] = [];
TYPE_OF[1] = "ww";
TYPE_OF[2] = "wr";
TYPE_OF[4] = "rw";
const WW = TYPE_CODE.ww;
const WR = TYPE_CODE.wr;
const RW = TYPE_CODE.rw;

function isTxn(op: WriteOperation): op is Txn {
  return op.txn !== undefined;
}

/** Map keys are equal by SameValueZero: `===`, except that NaN equals itself. */
function sameKey(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

export function checkListAppend(history: readonly WriteOperation[]): ListAppendCheck {
  const txns = history.filter(isTxn);
  const n = txns.length;
  const anomalies: TxnAnomaly[] = [];
  let appendCount = 0;
  for (let index = 0; index < n; index++) {
    const ops = (txns[index] as Txn).txn;
    for (let i = 0; i < ops.length; i++) if ((ops[i] as MicroOp).f === "append") appendCount++;
  }
  const appends = new Appends(appendCount);
  const failed = new Uint8Array(n);
  let committed = 0;
  for (let index = 0; index < n; index++) {
    const txn = txns[index] as Txn;
    if (txn.outcome === "fail") failed[index] = 1;
    else if (txn.outcome === "ok") committed++;
    const ops = txn.txn;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i] as MicroOp;
      if (op.f !== "append") continue;
      // A handful of micro-ops: a scan is cheaper than a map per transaction.
      let last = 1;
      for (let j = i + 1; j < ops.length; j++) {
        const other = ops[j] as MicroOp;
        if (other.f === "append" && other.key === op.key) last = 0;
      }
      appends.set(op.value, index * 2 + last);
    }
  }

  // Version order per key: its longest read. Ties are fine: a read of equal length must be equal.
  const order = new Map<number, VersionOrder>();
  for (let index = 0; index < n; index++) {
    const txn = txns[index] as Txn;
    if (txn.outcome !== "ok") continue;
    const ops = txn.txn;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i] as MicroOp;
      if (op.f !== "r" || op.value === null) continue;
      const known = order.get(op.key);
      if (known === undefined)
        order.set(op.key, {
          list: op.value,
          reader: txn,
          unique: true,
          firstFailed: -1,
          offset: 0,
          key: op.key === 0 ? 0 : op.key,
        });
      else if (op.value.length > known.list.length) {
        known.list = op.value;
        known.reader = txn;
      }
    }
  }
  // Each order's writers are looked up once, into one table (-1: nobody appended the value). Values
  // are unique, so a prefix of a list without duplicates has none, and sees a failed transaction's
  // append exactly when it reaches past the first one.
  const orders = [...order.values()];
  let total = 0;
  for (const entry of orders) {
    entry.offset = total;
    total += entry.list.length;
  }
  const writerOf = new Int32Array(total);
  for (const entry of orders) {
    const list = entry.list;
    const offset = entry.offset;
    entry.unique = distinct(list);
    let firstFailed = -1;
    for (let i = 0; i < list.length; i++) {
      const value = list[i] as number;
      const writer = appends.get(value);
      writerOf[offset + i] = writer;
      if (firstFailed < 0 && writer >= 0 && failed[writer >>> 1] === 1) firstFailed = i;
    }
    entry.firstFailed = firstFailed;
  }

  const incompatible = new Set<number>();
  const seen = new Set<string>();
  const once = (key: string): boolean => {
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  };
  for (let index = 0; index < n; index++) {
    const txn = txns[index] as Txn;
    if (txn.outcome !== "ok") continue;
    const ops = txn.txn;
    for (let o = 0; o < ops.length; o++) {
      const op = ops[o] as MicroOp;
      if (op.f !== "r" || op.value === null) continue;
      const list = op.value;
      const length = list.length;
      // Every committed read's key has an order: the orders are the longest of these very reads.
      const longest = order.get(op.key) as VersionOrder;
      const versions = longest.list;
      const offset = longest.offset;
      let prefix = true;
      for (let i = 0; i < length; i++) {
        if (versions[i] !== list[i]) {
          prefix = false;
          break;
        }
      }
      const duplicates = prefix && longest.unique ? false : !distinct(list);
      if (duplicates && once(`dup ${txn.id} ${op.key}`)) {
        anomalies.push({
          kind: "duplicate-elements",
          txns: [txn.id],
          text: `duplicate-elements: txn ${txn.id} read key ${op.key} as [${list.join(" ")}]`,
          cycle: null,
        });
      }
      if (!prefix && !incompatible.has(op.key)) {
        incompatible.add(op.key);
        anomalies.push({
          kind: "incompatible-order",
          txns: [txn.id, longest.reader.id],
          text: `incompatible-order: key ${op.key} read as [${list.join(" ")}] by txn ${txn.id}, but as [${versions.join(" ")}] by txn ${longest.reader.id}`,
          cycle: null,
        });
      }
      if (prefix) {
        const first = longest.firstFailed;
        if (first >= 0 && first < length) {
          const writer = txns[(writerOf[offset + first] as number) >>> 1] as Txn;
          if (once(`g1a ${txn.id} ${writer.id}`))
            anomalies.push(g1a(txn, writer, list[first] as number, op.key));
        }
      } else {
        for (let i = 0; i < length; i++) {
          const value = list[i] as number;
          const writer = appends.get(value);
          if (writer < 0 || failed[writer >>> 1] !== 1) continue;
          const writerTxn = txns[writer >>> 1] as Txn;
          if (once(`g1a ${txn.id} ${writerTxn.id}`)) anomalies.push(g1a(txn, writerTxn, value, op.key));
        }
      }
      if (length > 0) {
        const lastValue = list[length - 1] as number;
        const writer = prefix ? (writerOf[offset + length - 1] as number) : appends.get(lastValue);
        if (writer >= 0 && (writer & 1) === 0) {
          const writerTxn = txns[writer >>> 1] as Txn;
          if (writerTxn !== txn && once(`g1b ${txn.id} ${lastValue}`)) {
            anomalies.push({
              kind: "G1b",
              txns: [txn.id, writerTxn.id],
              text: `G1b: txn ${txn.id} read key ${op.key} ending in ${lastValue}, an intermediate append of txn ${writerTxn.id}`,
              cycle: null,
            });
          }
        }
      }
    }
    const internal = internalInconsistency(txn);
    if (internal !== null) anomalies.push(internal);
  }

  for (const anomaly of cycles(buildGraph(txns, order, orders, writerOf, failed))) anomalies.push(anomaly);
  const counts = Object.fromEntries(TXN_ANOMALY_KINDS.map((kind) => [kind, 0])) as Record<
    TxnAnomalyKind,
    number
  >;
  for (const anomaly of anomalies) counts[anomaly.kind] += 1;
  return { transactions: n, committed, anomalies, counts };
}

/** No value twice (as a `Set` counts them): short lists by comparing pairs, without allocating. */
function distinct(list: readonly number[]): boolean {
  const length = list.length;
  if (length > 64) return new Set(list).size === length;
  for (let i = 1; i < length; i++) {
    const value = list[i] as number;
    for (let j = 0; j < i; j++) if (sameKey(list[j] as number, value)) return false;
  }
  return true;
}

function g1a(txn: Txn, writer: Txn, value: number, key: number): TxnAnomaly {
  return {
    kind: "G1a",
    txns: [txn.id, writer.id],
    text: `G1a: txn ${txn.id} read ${value} on key ${key}, appended by txn ${writer.id}, which failed`,
    cycle: null,
  };
}

/** Above this many micro-ops, the exact per-key replay is used without looking for a shortcut. */
const SMALL_TXN = 16;

/** A read must show what the transaction itself did: its earlier read plus its own appends since. */
function internalInconsistency(txn: Txn): TxnAnomaly | null {
  const ops = txn.txn;
  if (ops.length > SMALL_TXN) return replay(txn);
  // Checked in place, without building the per-key state; the replay words what does not fit.
  for (let i = 1; i < ops.length; i++) if (!fitsOwnWrites(ops, i)) return replay(txn);
  return null;
}

/** Whether micro-op `i` (if a read) shows what the earlier ones on its key did, as `replay` judges. */
function fitsOwnWrites(ops: readonly MicroOp[], i: number): boolean {
  const op = ops[i] as MicroOp;
  if (op.f !== "r" || op.value === null) return true;
  const list = op.value;
  // The last earlier read of the key, and the appends to it since (or since the start).
  let base: number[] | null = null;
  let from = 0;
  for (let j = i - 1; j >= 0; j--) {
    const other = ops[j] as MicroOp;
    if (other.f === "r" && other.value !== null && sameKey(other.key, op.key)) {
      base = other.value;
      from = j + 1;
      break;
    }
  }
  let appended = 0;
  for (let j = from; j < i; j++) {
    const other = ops[j] as MicroOp;
    if (other.f === "append" && sameKey(other.key, op.key)) appended++;
  }
  let k: number;
  if (base !== null) {
    // Exactly the earlier read, then the appends.
    if (list.length !== base.length + appended) return false;
    for (k = 0; k < base.length; k++) if (list[k] !== base[k]) return false;
  } else {
    // Anything, ending in the appends.
    if (list.length < appended) return false;
    k = list.length - appended;
  }
  for (let j = from; j < i; j++) {
    const other = ops[j] as MicroOp;
    if (other.f === "append" && sameKey(other.key, op.key) && list[k++] !== other.value) return false;
  }
  return true;
}

function replay(txn: Txn): TxnAnomaly | null {
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

/**
 * The dependency graph in compressed rows: edges by source, each with its type and the place in the
 * writer table of the value it is about (every edge's value is a key's version: the one `to`
 * appended for ww and rw, the one a read ends with for wr), so an edge costs 9 bytes.
 */
interface Graph {
  txns: readonly Txn[];
  start: Int32Array;
  target: Int32Array;
  type: Uint8Array;
  position: Int32Array;
  /** The version orders, by where their writers start in the writer table. */
  orders: readonly VersionOrder[];
  /** Edges whose key or value is ±0 where the order's is ∓0 (a `Map` does not tell them apart). */
  exact: Map<number, { key: number; value: number }>;
}

/**
 * Nodes are the history's transactions by position (those without edges cost nothing). Two passes
 * over the same edges, ww by key then wr and rw by read: one counts each row, one fills it. Lookups
 * go through the writer table, so a pass is cheap, and nothing is staged or copied.
 */
function buildGraph(
  txns: readonly Txn[],
  order: Map<number, VersionOrder>,
  orders: readonly VersionOrder[],
  writerOf: Int32Array,
  failed: Uint8Array,
): Graph {
  const n = txns.length;
  const start = new Int32Array(n + 1);
  let target = new Int32Array(0);
  let type = new Uint8Array(0);
  let position = new Int32Array(0);
  const exact = new Map<number, { key: number; value: number }>();
  for (let pass = 0; pass < 2; pass++) {
    const fill = pass === 1;
    // The slot of the edge when filling, else -1 (also for an edge that is not made).
    const add = (a: number, b: number, code: number, at: number): number => {
      if (a === b || failed[a] === 1 || failed[b] === 1) return -1;
      if (!fill) {
        start[a + 1] = (start[a + 1] as number) + 1;
        return -1;
      }
      const slot = start[a] as number;
      start[a] = slot + 1;
      target[slot] = b;
      type[slot] = code;
      position[slot] = at;
      return slot;
    };
    for (const entry of orders) {
      const offset = entry.offset;
      const end = offset + entry.list.length;
      for (let p = offset + 1; p < end; p++) {
        const a = writerOf[p - 1] as number;
        const b = writerOf[p] as number;
        if (a >= 0 && b >= 0) add(a >>> 1, b >>> 1, WW, p);
      }
    }
    for (let index = 0; index < n; index++) {
      const txn = txns[index] as Txn;
      if (txn.outcome !== "ok") continue;
      const ops = txn.txn;
      for (let o = 0; o < ops.length; o++) {
        const op = ops[o] as MicroOp;
        if (op.f !== "r" || op.value === null) continue;
        const entry = order.get(op.key) as VersionOrder;
        const versions = entry.list;
        const list = op.value;
        const length = list.length;
        // Reads that are not a prefix are reported as incompatible; their dependencies are
        // unknowable (unless the read ends where the order has the same value).
        if (length > 0 && versions[length - 1] !== list[length - 1]) continue;
        const sameKey = Object.is(op.key, entry.key);
        if (length > 0) {
          const at = entry.offset + length - 1;
          const writer = writerOf[at] as number;
          if (writer >= 0) {
            const slot = add(writer >>> 1, index, WR, at);
            const value = list[length - 1] as number;
            if (slot >= 0 && (!sameKey || !Object.is(value, versions[length - 1])))
              exact.set(slot, { key: op.key, value });
          }
        }
        if (length < versions.length) {
          const at = entry.offset + length;
          const overwriter = writerOf[at] as number;
          if (overwriter >= 0) {
            const slot = add(index, overwriter >>> 1, RW, at);
            if (slot >= 0 && !sameKey) exact.set(slot, { key: op.key, value: versions[length] as number });
          }
        }
      }
    }
    if (!fill) {
      for (let i = 0; i < n; i++) start[i + 1] = (start[i + 1] as number) + (start[i] as number);
      const m = start[n] as number;
      target = new Int32Array(m);
      type = new Uint8Array(m);
      position = new Int32Array(m);
    }
  }
  // Filling moved each row's start to the next row's: move them back.
  for (let i = n; i > 0; i--) start[i] = start[i - 1] as number;
  start[0] = 0;
  return { txns, start, target, type, position, orders, exact };
}

/** Strongly connected components over the edges whose type is in `mask` (iterative Tarjan). */
function components(graph: Graph, mask: number): Int32Array {
  const n = graph.txns.length;
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
  let hi = graph.txns.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((graph.start[mid] as number) <= edge) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function step(graph: Graph, edge: number): DependencyStep {
  const at = graph.position[edge] as number;
  // The order whose writers hold `at`: the last one starting at or before it.
  let lo = 0;
  let hi = graph.orders.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((graph.orders[mid] as VersionOrder).offset <= at) lo = mid;
    else hi = mid - 1;
  }
  const entry = graph.orders[lo] as VersionOrder;
  const exact = graph.exact.get(edge);
  return {
    from: (graph.txns[sourceOf(graph, edge)] as Txn).id,
    to: (graph.txns[graph.target[edge] as number] as Txn).id,
    type: TYPE_OF[graph.type[edge] as number] as DependencyType,
    key: exact === undefined ? entry.key : exact.key,
    value: exact === undefined ? (entry.list[at - entry.offset] as number) : exact.value,
  };
}

function cycleAnomaly(kind: TxnAnomalyKind, steps: DependencyStep[]): TxnAnomaly {
  const first = steps[0] as DependencyStep;
  const text = `${kind}: txn ${first.from}${steps.map((s) => ` → ${s.type}(key ${s.key}, ${s.value}) → txn ${s.to}`).join("")}`;
  return { kind, txns: steps.map((s) => s.from), text, cycle: steps };
}

const WW_WR = TYPE_CODE.ww | TYPE_CODE.wr;
const ALL = WW_WR | TYPE_CODE.rw;
/** How many rw edges of one component are tried for a G-single before it is called G2-item. */
const SINGLE_TRIES = 64;

/**
 * One representative cycle per kind and component, as Elle reports. In a component every edge lies
 * on a cycle, so one edge of the wanted type and a path back close it.
 */
function cycles(graph: Graph): TxnAnomaly[] {
  const found: TxnAnomaly[] = [];
  const n = graph.txns.length;
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
  // Every edge has one of the three types: one scan, stopping at the first edge inside a component.
  let cyclic = false;
  for (let v = 0; v < n && !cyclic; v++) {
    const inside = all[v];
    for (let e = graph.start[v] as number; e < (graph.start[v + 1] as number); e++) {
      if (all[graph.target[e] as number] === inside) {
        cyclic = true;
        break;
      }
    }
  }
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
