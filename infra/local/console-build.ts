import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const CONSOLE_SRC = join(ROOT, "console");

/**
 * Bundles the console (console/src/main.ts, its stylesheet and the chart library's) with
 * esbuild into `outDir`: content-hashed `main-<hash>.js` and `.css`, and `index.html` naming
 * them. Everything the page loads is in the folder: nothing is fetched from a CDN, it works
 * offline. The local host serves the folder at /console; the cloud uploads the same folder.
 * Takes about a second.
 */
export async function buildConsole(outDir: string): Promise<string> {
  const out = resolve(outDir);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const result = await build({
    entryPoints: [join(CONSOLE_SRC, "src/main.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    legalComments: "linked",
    entryNames: "[name]-[hash]",
    outdir: out,
    metafile: true,
    logLevel: "silent",
  });
  const outputs = Object.keys(result.metafile.outputs).map((f) => basename(f));
  const script = outputs.find((f) => /^main-[^.]+\.js$/.test(f));
  const style = outputs.find((f) => /^main-[^.]+\.css$/.test(f));
  if (!script || !style) throw new Error(`console build: expected main-*.js and main-*.css, got ${outputs.join(", ")}`);
  const html = readFileSync(join(CONSOLE_SRC, "index.html"), "utf8").replace("{{script}}", script).replace("{{style}}", style);
  writeFileSync(join(out, "index.html"), html);
  return out;
}

// `npm run console:build`: the folder the cloud's site bucket is filled from.
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
