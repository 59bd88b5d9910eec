import { describe, expect, it } from "vitest";
import { LeaderLockTracker, leaderRecord } from "./leader-lock.ts";

const record = (leader: string | null, acquireTime: string, renewTime: string, transitions = "0") =>
  leaderRecord({ ...(leader ? { leader } : {}), acquireTime, renewTime, transitions, ttl: "10" });

describe("the leader lock on the Kubernetes API", () => {
  it("counts renewals instead of recording each, and names the first holder once", () => {
    const lock = new LeaderLockTracker();
    lock.configure({ ttl: 10, loop_wait: 2 });
    lock.observe(0, record("n1", "t0", "r0"));
    for (let i = 1; i <= 5; i++) lock.observe(i * 2000, record("n1", "t0", `r${i}`));
    // A sighting of the same record (a re-list after the watch ended) is no renewal.
    lock.observe(10_500, record("n1", "t0", "r5"));
    expect(lock.renewals()).toBe(5);
    expect(lock.events().map((e) => e.text)).toEqual(["leader lock held by n1 (acquired t0, transitions 0)"]);
    expect(lock.events(11_000).at(-1)?.text).toBe(
      "leader lock held by n1 at the end: 5 renewals seen in its last 11.0 s; 5 in all",
    );
  });

  it("puts a lapse and an expiry at the moment they happened, then the takeover", () => {
    const lock = new LeaderLockTracker();
    lock.configure({ ttl: 10, loop_wait: 2 });
    lock.observe(0, record("n1", "t0", "r0"));
    lock.observe(2000, record("n1", "t0", "r1"));
    // n1 is killed: nothing changes until n2 takes the lock after the ttl.
    lock.tick(5000);
    lock.tick(9000);
    lock.tick(12_500);
    lock.observe(13_000, record("n2", "t1", "r2", "1"));
    expect(lock.events()).toEqual([
      { wallMs: 0, member: "n1", text: "leader lock held by n1 (acquired t0, transitions 0)" },
      {
        wallMs: 6000,
        member: "n1",
        text: "leader lock not renewed by n1 for 4.0 s (2 × loop_wait 2 s)",
      },
      {
        wallMs: 12_000,
        member: "n1",
        text: "leader lock of n1 expired: unchanged for ttl 10 s, free for another member to take",
      },
      { wallMs: 13_000, member: "n1", text: "n1 lost the leader lock to n2: held 13.0 s, 1 renewal seen" },
      { wallMs: 13_000, member: "n2", text: "leader lock acquired by n2, transitions 1" },
    ]);
  });

  it("says when a lapsed leader renews again (failsafe mode over a DCS outage) and when it steps down", () => {
    const lock = new LeaderLockTracker();
    lock.configure({ ttl: 10, loop_wait: 2 });
    lock.observe(0, record("n1", "t0", "r0"));
    lock.observe(17_000, record("n1", "t0", "r1"));
    expect(lock.events().map((e) => e.text)).toEqual([
      "leader lock held by n1 (acquired t0, transitions 0)",
      "leader lock not renewed by n1 for 4.0 s (2 × loop_wait 2 s)",
      "leader lock of n1 expired: unchanged for ttl 10 s, free for another member to take",
      "leader lock renewed again by n1 after 17.0 s, though it had expired",
    ]);
    // A clean stop deletes the leader annotation (Patroni's delete_leader).
    lock.observe(20_000, leaderRecord({ acquireTime: "t0", renewTime: "r2", transitions: "0", ttl: "10" }));
    expect(lock.events().at(-1)).toEqual({
      wallMs: 20_000,
      member: "n1",
      text: "n1 released the leader lock: held 20.0 s, 1 renewal seen",
    });
    expect(lock.events(21_000)).toHaveLength(5);
  });

  it("reads a record only from the lock's own annotations", () => {
    expect(leaderRecord({ config: "{}", initialize: "7" })).toBeNull();
    expect(leaderRecord(undefined)).toBeNull();
    expect(leaderRecord({ leader: "n1", ttl: "30" })).toEqual({
      leader: "n1",
      acquireTime: null,
      renewTime: null,
      transitions: null,
      ttl: "30",
    });
  });
});
