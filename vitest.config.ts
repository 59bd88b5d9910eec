import { defineConfig } from "vitest/config";

// Unit tests are pure and fast; integration tests start real clusters, so they run one at a time.
// "full" is the long matrix (every scenario on every topology it lists): npm run test:full.
const clusters = { testTimeout: 1_800_000, hookTimeout: 1_800_000, fileParallelism: false };

export default defineConfig({
  test: {
    projects: [
      { test: { name: "unit", include: ["harness/**/*.test.ts"] } },
      {
        test: { name: "integration", include: ["test/**/*.test.ts"], exclude: ["test/full/**"], ...clusters },
      },
      { test: { name: "full", include: ["test/full/**/*.test.ts"], ...clusters } },
    ],
  },
});
