import { describe, expect, it } from "vitest";
import { READ, READ_FUNCTIONS } from "./readers.ts";

// Pgpool sends the replica readers' statement to a standby only if it names no system catalog or
// view and calls only functions in read_only_function_list (READ_FUNCTIONS).
describe("the reader's statement, as Pgpool's load balancing sees it", () => {
  const sql = READ.text.toLowerCase();

  it("calls exactly the functions of READ_FUNCTIONS", () => {
    // name( that is not a type modifier after a cast (::bit(32)) nor a keyword.
    const called = [...sql.matchAll(/(::\s*)?\b([a-z_][a-z0-9_]*)\s*\(/g)]
      .filter((m) => m[1] === undefined)
      .map((m) => m[2] as string)
      .filter((name) => !["select", "case", "when", "then", "else", "end", "and", "or", "in"].includes(name));
    expect(new Set(called)).toEqual(new Set(READ_FUNCTIONS));
  });

  it("reads no relation but the ledger (a function in FROM is no relation)", () => {
    const relations = [...sql.matchAll(/\bfrom\s+([a-z_][a-z0-9_.]*)(\s*\()?/g)]
      .filter((m) => m[2] === undefined)
      .map((m) => m[1]);
    expect(relations).toEqual(["pgchaos_ledger"]);
    expect(sql).not.toMatch(/pg_stat_wal_receiver\b/);
  });
});
