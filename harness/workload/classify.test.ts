import { describe, expect, it } from "vitest";
import { classifyWriteError } from "./classify.ts";

describe("classifyWriteError", () => {
  it("treats a read-only rejection as a certain failure", () => {
    expect(
      classifyWriteError({ code: "25006", message: "cannot execute INSERT in a read-only transaction" }),
    ).toBe("fail");
  });

  it("treats an administrator shutdown during commit as unknown", () => {
    expect(classifyWriteError({ code: "57P01", message: "terminating connection" })).toBe("unknown");
  });

  it("treats a proxy's internal error about its backend as unknown (Pgpool's XX000)", () => {
    expect(classifyWriteError({ code: "XX000", message: "unable to read data from DB node 0" })).toBe(
      "unknown",
    );
    expect(classifyWriteError({ code: "58030", message: "could not write to file" })).toBe("unknown");
  });

  it("treats a lost connection without SQLSTATE as unknown", () => {
    expect(classifyWriteError(new Error("Connection terminated unexpectedly"))).toBe("unknown");
  });

  it("treats a socket error code (not a SQLSTATE) as unknown", () => {
    expect(classifyWriteError({ code: "ECONNRESET" })).toBe("unknown");
  });
});
