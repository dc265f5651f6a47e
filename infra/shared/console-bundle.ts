import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type BuildOptions, type BuildResult, buildSync } from "esbuild";

/** The console's sources: console/src/main.ts, console/index.html, console/styles.css. */
export const CONSOLE_SRC = join(resolve(dirname(fileURLToPath(import.meta.url)), "../.."), "console");

/**
 * Bundles the console (console/src/main.ts, its stylesheet and the chart library's) with
 * esbuild into `outDir`: content-hashed `main-<hash>.js` and `.css`, and `index.html` naming
 * them. Everything the page loads is in the folder: nothing is fetched from a CDN, it works
 * offline. Synchronous, so CDK's local bundling can call it at synth time (the cloud's site
 * bucket is filled from it, as the handlers' bundles are made by the local esbuild); the local
 * host serves the same folder at /console. Takes about a second.
 */
export function bundleConsole(outDir: string): string {
  const out = resolve(outDir);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const options = {
    entryPoints: [join(CONSOLE_SRC, "src/main.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    legalComments: "linked",
    entryNames: "[name]-[hash]",
    // The Cognito identity client is imported on demand (the cloud's sign-in): its own chunk.
    splitting: true,
    chunkNames: "chunk-[hash]",
    outdir: out,
    metafile: true,
    logLevel: "silent",
    // The package's browser build (its `browser` field maps "./dist-es/index" without the ".js"
    // its `module` field names, which esbuild does not match): the Cognito providers, none of Node's.
    alias: { "@aws-sdk/credential-providers": "@aws-sdk/credential-providers/dist-es/index.browser.js" },
  } satisfies BuildOptions;
  const result: BuildResult<typeof options> = buildSync(options);
  const outputs = Object.keys(result.metafile.outputs).map((f) => basename(f));
  const script = outputs.find((f) => /^main-[^.]+\.js$/.test(f));
  const style = outputs.find((f) => /^main-[^.]+\.css$/.test(f));
  if (!script || !style) throw new Error(`console build: expected main-*.js and main-*.css, got ${outputs.join(", ")}`);
  const html = readFileSync(join(CONSOLE_SRC, "index.html"), "utf8").replace("{{script}}", script).replace("{{style}}", style);
  writeFileSync(join(out, "index.html"), html);
  return out;
}
