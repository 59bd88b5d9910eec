import { describe, expect, it } from "vitest";
import { Random, deriveSeed } from "./random.ts";

describe("Random", () => {
  it("draws the same sequence from the same seed, another from another", () => {
    const draws = (seed: number) => {
      const random = new Random(seed);
      return Array.from({ length: 5 }, () => random.next());
    };
    expect(draws(7)).toEqual(draws(7));
    expect(draws(7)).not.toEqual(draws(8));
    for (const x of draws(7)) expect(x >= 0 && x < 1).toBe(true);
  });

  it("picks every item over enough draws, and nothing from an empty list", () => {
    const random = new Random(1);
    const seen = new Set(Array.from({ length: 100 }, () => random.pick(["n2", "n3"])));
    expect(seen).toEqual(new Set(["n2", "n3"]));
    expect(random.pick([])).toBeUndefined();
  });
});

describe("deriveSeed", () => {
  it("depends on the plan's seed and the run's key only", () => {
    expect(deriveSeed(5, "steady/patroni/r2")).toBe(deriveSeed(5, "steady/patroni/r2"));
    expect(deriveSeed(5, "steady/patroni/r2")).not.toBe(deriveSeed(5, "steady/patroni/r1"));
    expect(deriveSeed(6, "steady/patroni/r2")).not.toBe(deriveSeed(5, "steady/patroni/r2"));
  });
});
