import { describe, expect, it } from "vitest";
import { parseScenario } from "../scenario/scenario.ts";
import { chooseBackend, diskBytesFor } from "./backend-choice.ts";

const withDisk = (cluster: string, fault: string) =>
  parseScenario(
    `name: t\ntopologies: [patroni]\ncluster:\n  nodes: 2\n${cluster}steps:\n  - fault: ${fault}\n    target: primary\n`,
    "t.yaml",
  );

const scenario = (fault: string, backend = "") =>
  parseScenario(
    `name: t\ntopologies: [patroni]\ncluster:\n  nodes: 3\n${backend}steps:\n  - fault: ${fault}\n    target: primary\n`,
    "t.yaml",
  );

describe("the ssh backend (attach)", () => {
  it("is chosen by --cluster, whatever the scenario would be provisioned on", () => {
    expect(chooseBackend(scenario("kill"), { attach: true }).kind).toBe("ssh");
    expect(chooseBackend(scenario("kill", "backend: docker\n"), { attach: true }).kind).toBe("ssh");
    expect(chooseBackend(scenario("freeze"), { attach: true }).kind).toBe("ssh");
  });

  it("is never named on its own: the hosts come from a cluster file", () => {
    expect(() => chooseBackend(scenario("kill"), { backend: "ssh" })).toThrow(/--cluster <cluster.yaml>/);
    expect(() => scenario("kill", "backend: ssh\n")).toThrow();
  });

  it("refuses what it cannot do with the one-line capability error, and stack choices", () => {
    for (const [fault, need] of [
      ["pause", "pause"],
      ["disconnect", "disconnect"],
      ["disk-full", "disk"],
      ["io-freeze", "disk"],
    ] as const)
      expect(() => chooseBackend(scenario(fault), { attach: true })).toThrow(
        new RegExp(`fault ${fault} needs a backend that can ${need}.*; backend ssh cannot$`),
      );
    expect(() =>
      chooseBackend(scenario("kill"), {
        attach: true,
        stack: "trixie",
      }),
    ).toThrow(/drop --stack and --image/);
    // Clients by name need a resolver of their host's own: the local backend gives one, Docker not yet.
    const byName = scenario("kill", "entrypoint: [direct, dns]\n");
    expect(chooseBackend(byName, {}).kind).toBe("local");
    for (const backend of [{ backend: "docker" as const }, { attach: true }])
      expect(() => chooseBackend(byName, backend)).toThrow(/entrypoint dns needs a backend .*\(local\)/);
  });
});

describe("member disks", () => {
  it("gives members a disk only when a step needs one or the scenario asks for it", () => {
    expect(diskBytesFor(withDisk("", "kill"))).toBeNull();
    expect(diskBytesFor(withDisk("", "disk-full"))).toBe(512 * 2 ** 20);
    expect(diskBytesFor(withDisk("", "io-freeze"))).toBe(512 * 2 ** 20);
    expect(diskBytesFor(withDisk("  disk: 1GB\n", "kill"))).toBe(2 ** 30);
  });

  it("refuses a disk too small for a member, and io-freeze where the disk cannot be frozen (Docker's tmpfs)", () => {
    expect(() => diskBytesFor(withDisk("  disk: 16MB\n", "disk-full"))).toThrow(/too small/);
    expect(() => chooseBackend(withDisk("", "io-freeze"), { backend: "docker" })).toThrow(
      /io-freeze needs a backend that can freeze-disk \(local\); backend docker cannot/,
    );
    expect(chooseBackend(withDisk("", "disk-full"), { backend: "docker" }).kind).toBe("docker");
    expect(chooseBackend(withDisk("  disk: 1GB\n", "kill"), { backend: "docker" }).kind).toBe("docker");
  });
});
