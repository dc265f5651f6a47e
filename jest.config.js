// Jest runs the TypeScript sources as native ESM (package.json "type": "module"): @swc/jest
// strips types and keeps ESM when Jest asks for it, which needs `node --experimental-vm-modules`
// (see the "test" script). Imports are extensionless (moduleResolution Bundler); Jest's resolver
// finds the `.ts` files through moduleFileExtensions.

/** @type {import("jest").Config} */
const typescriptEsm = {
  testEnvironment: "<rootDir>/test/node-environment.mjs",
  extensionsToTreatAsEsm: [".ts"],
  moduleFileExtensions: ["ts", "js", "mjs", "cjs", "json", "node"],
  transform: { "^.+\\.ts$": ["@swc/jest", { jsc: { parser: { syntax: "typescript" }, target: "es2022" } }] },
};

/** @type {import("jest").Config} */
export default {
  // Suites that start JVMs and bundle Lambdas: two at a time on 2 cores.
  maxWorkers: 2,
  // Each suite loads its own copy of the AWS SDK and the handlers, and a worker that ran half of
  // them held ~2 GB (1.2 GB of V8 heap) at the end: the operating system took longer than Jest's
  // half-second grace to tear such a process down, and Jest reported it as "failed to exit
  // gracefully". A worker past this size after a suite is replaced by a fresh one.
  workerIdleMemoryLimit: "1GB",
  // Jest reads testTimeout only here, not per project (the e2e project raises it in a setup
  // file), and has no separate hook timeout: hooks get the test timeout.
  testTimeout: 60_000,
  projects: [
    { ...typescriptEsm, displayName: "unit", testMatch: ["<rootDir>/test/unit/**/*.test.ts", "<rootDir>/test/local/**/*.test.ts"] },
    // Handlers built through their factories with in-memory adapters: no Java, no sockets.
    { ...typescriptEsm, displayName: "handlers", testMatch: ["<rootDir>/test/handlers/**/*.test.ts"] },
    { ...typescriptEsm, displayName: "infra", testMatch: ["<rootDir>/test/infra/**/*.test.ts"] },
    {
      ...typescriptEsm,
      displayName: "e2e",
      testMatch: ["<rootDir>/test/e2e/**/*.test.ts", "<rootDir>/test/adapters/**/*.test.ts"],
      // One local platform for all e2e suites, in Jest's parent process.
      globalSetup: "<rootDir>/test/e2e/global-setup.mjs",
      globalTeardown: "<rootDir>/test/e2e/global-teardown.mjs",
      setupFilesAfterEnv: ["<rootDir>/test/e2e/timeout.ts"],
    },
    {
      ...typescriptEsm,
      displayName: "browser",
      // The console in Chromium (Debian's package, through playwright-core) against the real local
      // platform: the e2e project's, the same globalSetup file, which Jest runs once for both.
      testMatch: ["<rootDir>/test/browser/**/*.test.ts"],
      globalSetup: "<rootDir>/test/e2e/global-setup.mjs",
      globalTeardown: "<rootDir>/test/e2e/global-teardown.mjs",
      setupFilesAfterEnv: ["<rootDir>/test/e2e/timeout.ts"],
    },
  ],
};
