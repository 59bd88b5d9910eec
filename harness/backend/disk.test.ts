import { describe, expect, it } from "vitest";
import { chooseBackend, diskBytesFor } from "../run/backend-choice.ts";
import { parseScenario } from "../scenario/scenario.ts";
import { parseDiskSize } from "./disk.ts";

const scenario = (cluster: string, fault: string) =>
  parseScenario(
    `name: t\ntopologies: [patroni]\ncluster:\n  nodes: 2\n${cluster}steps:\n  - fault: ${fault}\n    target: primary\n`,
    "t.yaml",
  );

describe("member disks", () => {
  it("reads cluster.disk sizes in binary units", () => {
    expect(parseDiskSize("512MB")).toBe(512 * 2 ** 20);
    expect(parseDiskSize("2GB")).toBe(2 * 2 ** 30);
    expect(() => parseDiskSize("2G")).toThrow();
  });

  it("gives members a disk only when a step needs one or the scenario asks for it", () => {
    expect(diskBytesFor(scenario("", "kill"))).toBeNull();
    expect(diskBytesFor(scenario("", "disk-full"))).toBe(512 * 2 ** 20);
    expect(diskBytesFor(scenario("", "io-freeze"))).toBe(512 * 2 ** 20);
    expect(diskBytesFor(scenario("  disk: 1GB\n", "kill"))).toBe(2 ** 30);
  });

  it("refuses a disk too small for a member, and io-freeze where the disk cannot be frozen (Docker's tmpfs)", () => {
    expect(() => diskBytesFor(scenario("  disk: 16MB\n", "disk-full"))).toThrow(/too small/);
    expect(() => chooseBackend(scenario("", "io-freeze"), { backend: "docker" })).toThrow(
      /io-freeze needs a backend that can freeze-disk \(local\); backend docker cannot/,
    );
    expect(chooseBackend(scenario("", "disk-full"), { backend: "docker" }).kind).toBe("docker");
    expect(chooseBackend(scenario("  disk: 1GB\n", "kill"), { backend: "docker" }).kind).toBe("docker");
  });
});
