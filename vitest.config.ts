import { defineConfig } from "vitest/config";

// Unit tests are pure and fast; integration tests start real clusters, so they run one at a time.
export default defineConfig({
  test: {
    projects: [
      { test: { name: "unit", include: ["harness/**/*.test.ts"] } },
      {
        test: {
          name: "integration",
          include: ["test/**/*.test.ts"],
          testTimeout: 600_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
