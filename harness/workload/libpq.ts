import { createRequire } from "node:module";

/** The part of the `libpq` addon (PostgreSQL's own C client library) this module drives. */
interface NativeConnection {
  connect(conninfo: string, callback: (error?: Error) => void): void;
  errorMessage(): string;
  finish(): void;
  setNonBlocking(on: boolean): boolean;
  sendQueryParams(text: string, values: string[]): boolean;
  flush(): number;
  writable(callback: () => void): void;
  startReader(): void;
  stopReader(): void;
  consumeInput(): boolean;
  isBusy(): boolean;
  getResult(): boolean;
  resultStatus(): string;
  resultErrorMessage(): string;
  resultErrorFields(): { sqlState?: string } | null;
  ntuples(): number;
  nfields(): number;
  fname(column: number): string;
  getvalue(row: number, column: number): string;
  getisnull(row: number, column: number): boolean;
  on(event: "readable", listener: () => void): void;
  removeListener(event: "readable", listener: () => void): void;
}

type NativeConstructor = new () => NativeConnection;

let Native: NativeConstructor | undefined;

function native(): NativeConstructor {
  try {
    Native ??= createRequire(import.meta.url)("libpq") as NativeConstructor;
  } catch (error) {
    throw new Error(
      `the libpq addon is not built (${(error as Error).message.split("\n")[0]}) — fix: apt-get install libpq-dev && npm rebuild libpq`,
    );
  }
  return Native;
}

/** An error as classifyWriteError reads it: the SQLSTATE in `code`, none when the connection itself failed. */
export class LibpqError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message.trim());
  }
}

export type Row = Record<string, string | null>;

/**
 * One connection through libpq itself, so a connection string means exactly what it means to an
 * application: multi-host lists tried in order, target_session_attrs, connect_timeout (or its absence).
 */
export class LibpqConnection {
  private closed = false;

  private constructor(private readonly pq: NativeConnection) {}

  /**
   * Connects on libpq's own terms (it blocks one libuv worker thread until libpq gives up).
   * `abandon` resolves when the caller stops waiting: the attempt is then closed once libpq returns.
   */
  static open(conninfo: string, abandon: Promise<void>): Promise<LibpqConnection | LibpqError> {
    const pq = new (native())();
    return new Promise((resolve) => {
      let waiting = true;
      abandon.then(() => {
        if (!waiting) return;
        waiting = false;
        resolve(new LibpqError("connect abandoned: still waiting for libpq"));
      });
      pq.connect(conninfo, (error) => {
        if (!waiting) {
          pq.finish();
          return;
        }
        waiting = false;
        if (error) {
          const message = pq.errorMessage() || error.message;
          pq.finish();
          resolve(new LibpqError(message));
        } else {
          resolve(new LibpqConnection(pq));
        }
      });
    });
  }

  /** Runs one statement with text parameters; rejects with a LibpqError, or after timeoutMs (then the connection is closed). */
  query(text: string, values: (string | number)[], timeoutMs: number): Promise<Row[]> {
    const pq = this.pq;
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new LibpqError("connection closed"));
      let done = false;
      const finish = (outcome: Row[] | LibpqError) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        clearInterval(poll);
        pq.stopReader();
        pq.removeListener("readable", onReadable);
        if (outcome instanceof LibpqError) reject(outcome);
        else resolve(outcome);
      };
      const timer = setTimeout(() => {
        finish(new LibpqError(`query timeout after ${timeoutMs} ms`));
        this.close();
      }, timeoutMs);
      // The addon drops libuv's error callback (a socket reset reports POLLERR, not readable), so a
      // reset would go unnoticed until the timeout; libpq's own blocking calls see it at once. Look
      // at the socket every 50 ms as well: consumeInput() is a no-op while nothing has arrived.
      const poll = setInterval(() => onReadable(), 50);
      let rows: Row[] = [];
      let failure: LibpqError | undefined;
      const onReadable = () => {
        if (!pq.consumeInput()) return finish(new LibpqError(pq.errorMessage() || "connection lost"));
        while (!pq.isBusy()) {
          if (!pq.getResult()) return finish(failure ?? rows);
          const status = pq.resultStatus();
          if (status === "PGRES_TUPLES_OK" || status === "PGRES_COMMAND_OK") rows = this.rows();
          else failure = new LibpqError(pq.resultErrorMessage(), pq.resultErrorFields()?.sqlState);
        }
      };
      if (!pq.setNonBlocking(true) || !pq.sendQueryParams(text, values.map(String))) {
        return finish(new LibpqError(pq.errorMessage() || "could not send the query"));
      }
      const flushThenRead = () => {
        const flushed = pq.flush();
        if (flushed === -1) return finish(new LibpqError(pq.errorMessage() || "connection lost"));
        if (flushed === 1) return pq.writable(flushThenRead);
        pq.on("readable", onReadable);
        pq.startReader();
      };
      flushThenRead();
    });
  }

  private rows(): Row[] {
    const pq = this.pq;
    const names = Array.from({ length: pq.nfields() }, (_, column) => pq.fname(column));
    return Array.from({ length: pq.ntuples() }, (_, row) =>
      Object.fromEntries(
        names.map((name, column) => [name, pq.getisnull(row, column) ? null : pq.getvalue(row, column)]),
      ),
    );
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pq.finish();
  }
}
