/**
 * Histories in Jepsen's EDN format (one operation map per line, invocations and completions paired
 * by :process), so Jepsen's own Elle can check what pgchaos checked: `elle-cli --model list-append`
 * for transactions, `--model rw-register` for the ledger.
 */
import type { MicroOp, ReadOperation, WriteOperation } from "../model/history.ts";

/** An event of the exported history: where it sits in time, and its map without :index. */
interface EdnEvent {
  at_ns: number;
  /** Invocations sort before completions at the same instant. */
  phase: 0 | 1;
  body: string;
}

function list(values: readonly number[] | null): string {
  return values === null ? "nil" : `[${values.join(" ")}]`;
}

function completion(outcome: WriteOperation["outcome"]): string {
  return outcome === "ok" ? ":ok" : outcome === "fail" ? ":fail" : ":info";
}

/** Stable numbers: one per name, in the order names sort. */
function numbered(names: Iterable<string>): Map<string, number> {
  return new Map([...new Set(names)].sort().map((name, index) => [name, index]));
}

/**
 * Jepsen's processes: one per client, in name order; a client whose operation ended :info goes on as
 * a new process, as Jepsen's own clients do (an indeterminate process never issues another operation).
 */
class Processes {
  private readonly current: Map<string, number>;
  private next: number;

  constructor(clients: Iterable<string>) {
    this.current = numbered(clients);
    this.next = this.current.size;
  }

  /** The process of the client's next operation; call in each client's own order. */
  take(client: string, outcome: WriteOperation["outcome"]): number {
    const process = this.current.get(client) as number;
    if (outcome === "unknown") this.current.set(client, this.next++);
    return process;
  }
}

function render(events: EdnEvent[]): string {
  events.sort((a, b) => a.at_ns - b.at_ns || a.phase - b.phase);
  return events.map((e, index) => `{${e.body}, :index ${index}}\n`).join("");
}

function event(type: string, value: string, process: number, at_ns: number, phase: 0 | 1): EdnEvent {
  return {
    at_ns,
    phase,
    body: `:type ${type}, :f :txn, :value ${value}, :process ${process}, :time ${at_ns}`,
  };
}

function microOps(txn: readonly MicroOp[], withReads: boolean): string {
  return `[${txn
    .map((op) =>
      op.f === "append"
        ? `[:append ${op.key} ${op.value}]`
        : `[:r ${op.key} ${withReads ? list(op.value) : "nil"}]`,
    )
    .join(" ")}]`;
}

/** Transactions of a list-append run; ledger writes without a transaction are left out. */
export function listAppendEdn(history: readonly WriteOperation[]): string {
  const txns = history.filter((op) => op.txn !== undefined);
  const process = new Processes(txns.map((op) => op.writer));
  const events = txns.flatMap((op) => {
    const p = process.take(op.writer, op.outcome);
    const txn = op.txn as MicroOp[];
    return [
      event(":invoke", microOps(txn, false), p, op.invoke_ns, 0),
      event(completion(op.outcome), microOps(txn, op.outcome === "ok"), p, op.complete_ns, 1),
    ];
  });
  return render(events);
}

/**
 * The ledger as registers: each writer is one register, since a writer has one write in flight at a
 * time, so its ids grow in commit order and its highest id present is the register's latest value.
 * A write of id x by writer w is [[:w k x]]; a read is [[:r k head] …] over the writers it asked.
 */
export function registerEdn(writes: readonly WriteOperation[], reads: readonly ReadOperation[]): string {
  const registers = numbered([
    ...writes.map((op) => op.writer),
    ...reads.flatMap((r) => Object.keys(r.heads)),
  ]);
  const process = new Processes([...writes.map((op) => op.writer), ...reads.map((r) => r.reader)]);
  const events: EdnEvent[] = [];
  for (const op of writes) {
    const value = `[[:w ${registers.get(op.writer)} ${op.id}]]`;
    const p = process.take(op.writer, op.outcome);
    events.push(
      event(":invoke", value, p, op.invoke_ns, 0),
      event(completion(op.outcome), value, p, op.complete_ns, 1),
    );
  }
  for (const read of reads) {
    const asked = Object.keys(read.heads).sort();
    const ops = (seen: boolean) =>
      `[${asked.map((writer) => `[:r ${registers.get(writer)} ${seen ? (read.heads[writer] ?? "nil") : "nil"}]`).join(" ")}]`;
    const p = process.take(read.reader, read.outcome);
    events.push(
      event(":invoke", ops(false), p, read.invoke_ns, 0),
      event(completion(read.outcome), ops(read.outcome === "ok"), p, read.complete_ns, 1),
    );
  }
  return render(events);
}
