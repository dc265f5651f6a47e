import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleConsole, CONSOLE_SRC } from "../shared/console-bundle";

/**
 * The console bundled into `outDir` (infra/shared/console-bundle.ts): what the local host
 * serves at /console, built at each start.
 */
export async function buildConsole(outDir: string): Promise<string> {
  return bundleConsole(outDir);
}

// `npm run console:build`: the folder `cdk synth` would upload, for a look without a deploy.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2] ?? join(CONSOLE_SRC, "dist");
  buildConsole(dir).then(
    (d) => console.log(`console built in ${d}`),
    (err: unknown) => {
      console.error(`console build failed: ${(err as Error).message}`);
      process.exit(1);
    },
  );
}
