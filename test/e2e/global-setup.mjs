// Jest loads globalSetup/globalTeardown in its parent process outside its module system (as
// CommonJS through its transform, which cannot load this ESM TypeScript tree: `import.meta`,
// and the platform importing `test/e2e/e2e.config.ts` at run time). tsx loads it instead, as
// cli/bin.mjs does; the platform then lives in the parent for the whole run.
import { tsImport } from "tsx/esm/api";

export default async function globalSetup() {
  const { setup, teardown } = await tsImport("./global-setup.ts", import.meta.url);
  await setup();
  // Jest's documented channel from globalSetup to globalTeardown (both run in the parent):
  // each tsImport loads a module afresh, so teardown must reach this instance's platform.
  globalThis.modelgateE2eTeardown = teardown;
}
