import { describe, expect, it } from "vitest";
import { parseDiskSize } from "./disk.ts";

describe("member disks", () => {
  it("reads cluster.disk sizes in binary units", () => {
    expect(parseDiskSize("512MB")).toBe(512 * 2 ** 20);
    expect(parseDiskSize("2GB")).toBe(2 * 2 ** 30);
    expect(() => parseDiskSize("2G")).toThrow();
  });
});
