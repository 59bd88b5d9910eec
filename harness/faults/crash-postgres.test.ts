import { describe, expect, it } from "vitest";
import { crashHealAction } from "./crash-postgres.ts";

const seen = {
  postmasterRunning: false,
  agentRunning: true,
  agentRestartsPostgres: true,
  waitedMs: 0,
  graceMs: 30_000,
};

describe("crash-postgres heal", () => {
  it("leaves a PostgreSQL the agent brought back alone", () => {
    expect(crashHealAction({ ...seen, postmasterRunning: true })).toBe("recovered");
    expect(crashHealAction({ ...seen, postmasterRunning: true, waitedMs: 60_000 })).toBe("recovered");
  });

  it("waits for a live agent that restarts PostgreSQL, within the grace only", () => {
    expect(crashHealAction(seen)).toBe("wait");
    expect(crashHealAction({ ...seen, waitedMs: 29_999 })).toBe("wait");
    expect(crashHealAction({ ...seen, waitedMs: 30_000 })).toBe("restart");
  });

  it("restarts at once when nothing on the member would bring PostgreSQL back", () => {
    expect(crashHealAction({ ...seen, agentRunning: false })).toBe("restart");
    expect(crashHealAction({ ...seen, agentRestartsPostgres: false })).toBe("restart");
  });
});
