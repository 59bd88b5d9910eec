import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { listAppendEdn, registerEdn } from "./edn.ts";
import type { Reporter } from "./reporter.ts";

/**
 * history.edn: the run's history in Jepsen's format, for a cross-check with Jepsen's own Elle
 * (README: "Checking with Elle"). List-append runs export their transactions (model list-append);
 * ledger runs their writes and reads, each writer a register (model rw-register).
 */
export const ednReporter: Reporter = {
  name: "edn",
  async write(report, dir) {
    const { history, reads } = report.record;
    const file = join(dir, "history.edn");
    // Verify already decided whether this was a list-append run: it checked its transactions.
    const transactional = report.verification.transactions !== null;
    await writeFile(file, transactional ? listAppendEdn(history) : registerEdn(history, reads));
    return [file];
  },
};
