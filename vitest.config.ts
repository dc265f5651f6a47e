import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Suites that start JVMs and bundle Lambdas: two at a time on 2 cores.
    pool: "forks",
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 60_000,
    hookTimeout: 240_000,
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["test/unit/**/*.test.ts", "test/local/**/*.test.ts", "test/handlers/**/*.test.ts"] },
      },
      { extends: true, test: { name: "infra", include: ["test/infra/**/*.test.ts"], env: { CDK_VALIDATION: "false" } } },
      {
        extends: true,
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts", "test/adapters/**/*.test.ts"],
          globalSetup: ["test/e2e/global-setup.ts"],
          testTimeout: 300_000,
        },
      },
    ],
  },
});
