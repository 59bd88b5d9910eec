import { defineConfig } from "vitest/config";

// Unit tests are pure and fast; integration tests start real clusters, so they run one at a time.
// "full" is the long matrix (every scenario on every topology it lists): npm run test:full.
// "k8s" is Patroni on a real kube-apiserver (npm run test:k8s, also in test:full): the API server is
// built from Go modules on first use (~7 min on 2 cores), which npm test does not pay for.
const clusters = { testTimeout: 1_800_000, hookTimeout: 1_800_000, fileParallelism: false };

export default defineConfig({
  test: {
    projects: [
      { test: { name: "unit", include: ["harness/**/*.test.ts", "scripts/**/*.test.ts"] } },
      {
        test: {
          name: "integration",
          include: ["test/**/*.test.ts"],
          exclude: ["test/full/**", "test/k8s/**"],
          ...clusters,
        },
      },
      { test: { name: "full", include: ["test/full/**/*.test.ts"], ...clusters } },
      { test: { name: "k8s", include: ["test/k8s/**/*.test.ts"], ...clusters } },
    ],
  },
});
