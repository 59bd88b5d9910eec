import { describe, expect, it } from "vitest";
import { shapingBatch } from "../backend/shaping.ts";
import {
  covered,
  dnatRuleset,
  parseConnections,
  parseListeners,
  reachablePorts,
} from "../backend/toxiproxy.ts";
import { egressLimits } from "./links.ts";

const addresses: Record<string, string> = { n1: "10.0.0.11", n2: "10.0.0.12" };
const backend = { member: (name: string) => ({ address: addresses[name] as string }) } as never;

describe("link faults' pure parts", () => {
  it("reads the ports a peer can reach from ss -Hltn, loopback-only ones left out", () => {
    const listeners = parseListeners(
      [
        "LISTEN 0 200 10.0.0.12:5432 0.0.0.0:*",
        "LISTEN 0 200 127.0.0.1:5432 0.0.0.0:*",
        "LISTEN 0 5 0.0.0.0:8008 0.0.0.0:*",
        "LISTEN 0 128 127.0.0.1:2379 0.0.0.0:*",
        "LISTEN 0 128 [::]:22 [::]:*",
        "LISTEN 0 128 *:9999 *:*",
      ].join("\n"),
    );
    expect(reachablePorts(listeners, "10.0.0.12")).toEqual([22, 5432, 8008, 9999]);
  });

  it("reads established connections with their owner; root's have no uid", () => {
    const connections = parseConnections(
      [
        "0 0 10.0.0.11:46052 10.0.0.12:5432 timer:(keepalive,119min,0) uid:101 ino:1 sk:1 <->",
        "0 0 10.0.0.11:46056 10.0.0.12:5432 timer:(keepalive,12sec,0) ino:2 sk:2 <->",
      ].join("\n"),
    );
    expect(connections).toEqual([
      { local: "10.0.0.11:46052", peer: "10.0.0.12:5432", uid: 101 },
      { local: "10.0.0.11:46056", peer: "10.0.0.12:5432", uid: 0 },
    ]);
  });

  it("redirects only new connections of non-root processes to each proxy", () => {
    const ruleset = dnatRuleset(
      "pgchaos_proxy_x",
      "10.0.0.11",
      { kind: "outbound", upstreams: [{ address: "10.0.0.12", port: 5432 }] },
      [21001],
    );
    expect(ruleset).toContain("type nat hook output priority -100");
    expect(ruleset).toContain(
      "meta skuid != 0 ip daddr 10.0.0.12 tcp dport 5432 tcp flags & (syn | ack) == syn dnat to 10.0.0.11:21001",
    );
    expect(ruleset).not.toContain("prerouting");
  });

  it("redirects the clients' new connections to the member's ports, on the way in, to its own proxies", () => {
    const ruleset = dnatRuleset(
      "pgchaos_proxy_y",
      "10.0.0.12",
      { kind: "inbound", from: "10.0.0.1", ports: [5000, 5001] },
      [21001, 21002],
    );
    expect(ruleset).toContain("type nat hook prerouting priority -100");
    expect(ruleset.split("\n").filter((line) => line.includes("dnat"))).toEqual([
      "    ip saddr 10.0.0.1 ip daddr 10.0.0.12 tcp dport 5000 tcp flags & (syn | ack) == syn dnat to 10.0.0.12:21001",
      "    ip saddr 10.0.0.1 ip daddr 10.0.0.12 tcp dport 5001 tcp flags & (syn | ack) == syn dnat to 10.0.0.12:21002",
    ]);
  });

  it("resets only the connections a route covers: non-root ones to the upstreams, or the clients' to the ports", () => {
    const connections = [
      { local: "10.0.0.11:46052", peer: "10.0.0.12:5432", uid: 101 },
      { local: "10.0.0.11:46056", peer: "10.0.0.12:5432", uid: 0 },
      { local: "10.0.0.11:46060", peer: "10.0.0.12:8008", uid: 101 },
      { local: "10.0.0.11:5432", peer: "10.0.0.1:40000", uid: 101 },
      { local: "10.0.0.11:5432", peer: "10.0.0.13:40002", uid: 101 },
      { local: "10.0.0.11:8008", peer: "10.0.0.1:40004", uid: 0 },
    ];
    const outbound = covered("10.0.0.11", {
      kind: "outbound",
      upstreams: [{ address: "10.0.0.12", port: 5432 }],
    });
    expect(connections.filter(outbound).map((c) => c.local)).toEqual(["10.0.0.11:46052"]);
    const inbound = covered("10.0.0.11", { kind: "inbound", from: "10.0.0.1", ports: [5432] });
    expect(connections.filter(inbound).map((c) => c.peer)).toEqual(["10.0.0.1:40000"]);
  });

  it("limits each side's egress to the other both ways, or only the connections A opens one-way", () => {
    const links = [{ from: "n1", to: "n2", ports: [5432, 8008] }];
    expect([...egressLimits(backend, links, false)]).toEqual([["n1", [{ to: "10.0.0.12" }]]]);
    expect([...egressLimits(backend, links, true)]).toEqual([
      ["n1", [{ to: "10.0.0.12", dports: [5432, 8008] }]],
      ["n2", [{ to: "10.0.0.11", sports: [5432, 8008] }]],
    ]);
  });

  it("shapes in kilobits (tc's kbit, not its kbps, which is kilobytes), one class per peer", () => {
    const batch = shapingBatch("eth0", [{ to: "10.0.0.12" }, { to: "10.0.0.13", dports: [5432] }], 800);
    expect(batch.split("\n")).toEqual([
      "qdisc add dev eth0 root handle 1: htb",
      "class add dev eth0 parent 1: classid 1:10 htb rate 800kbit ceil 800kbit",
      "filter add dev eth0 parent 1: protocol ip prio 1 u32 match ip dst 10.0.0.12/32 flowid 1:10",
      "class add dev eth0 parent 1: classid 1:11 htb rate 800kbit ceil 800kbit",
      "filter add dev eth0 parent 1: protocol ip prio 1 u32 match ip dst 10.0.0.13/32 match ip dport 5432 0xffff flowid 1:11",
      "",
    ]);
  });
});
