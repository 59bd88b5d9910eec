import { describe, expect, it } from "vitest";
import { missingImage } from "./docker-engine.ts";

describe("a missing image", () => {
  it("is the build command for a stack's own image, which is built here and never pulled", () => {
    expect(missingImage("pgchaos/node:trixie").message).toBe(
      "image pgchaos/node:trixie is not built — fix: bash docker/build.sh trixie",
    );
  });

  it("is a plain 'not found' for any other image, a stack-like name included", () => {
    expect(missingImage("pgchaos/node:sid").message).toMatch(
      /^image pgchaos\/node:sid not found on the Docker engine/,
    );
    expect(missingImage("acme/pg:1").message).toMatch(/^image acme\/pg:1 not found/);
  });
});
