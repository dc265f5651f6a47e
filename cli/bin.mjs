#!/usr/bin/env node
// The `modelgate` command: loads the TypeScript CLI through tsx (a runtime dependency), so
// no build step is needed. tsImport scopes the TypeScript loader to this import.
import { tsImport } from "tsx/esm/api";

const { run } = await tsImport("./main.ts", import.meta.url);
process.exitCode = await run(process.argv);
