import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { toApiResponse } from "../api-client";
import { KEY_OPTION_HELP, resolveApiKey } from "../api-key";
import { apiFailure, type GlobalOptions, reach, resolveTarget } from "../context";
import { argumentError, configError } from "../errors";
import { printJson } from "../output";
import { versionArgument } from "../version-argument";

/** `--data '{…}'` or `--data @file.json` (`@-`: stdin). */
function readData(data: string): string {
  if (!data.startsWith("@")) return data;
  const file = data.slice(1);
  try {
    return readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (err) {
    throw argumentError(`cannot read --data file '${file}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

export function registerInvoke(program: Command): void {
  program
    .command("invoke")
    .description("call a model with a tenant API key (KServe v2 JSON); prints the response body")
    .argument("<model>", "model name")
    .option("--alias <alias>", "alias to call (default: the model's default alias)")
    .option("--version <n>", "version number to call")
    .option("--key <apiKey>", KEY_OPTION_HELP.key)
    .option("--key-file <path>", KEY_OPTION_HELP.keyFile)
    .requiredOption("--data <json|@file>", "request body: inline JSON, @file, or @- for stdin")
    .action(async (model: string, o: { alias?: string; version?: string; key?: string; keyFile?: string; data: string }, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      if (o.alias !== undefined && o.version !== undefined) throw argumentError("give --alias or --version, not both");
      if (o.version !== undefined) versionArgument(o.version, "--version");
      const body = readData(o.data);
      try {
        JSON.parse(body);
      } catch {
        throw argumentError("--data is not valid JSON");
      }
      const target = resolveTarget(opts);
      if (o.key === "-" && o.data === "@-") throw argumentError("stdin can carry --data or the key (--key -), not both");
      const key = resolveApiKey(o, target.defaultApiKey);
      if (!key) throw configError("no API key: pass --key, --key-file or set MODELGATE_API_KEY");
      const selector = o.alias ?? o.version;
      const path = `v2/models/${encodeURIComponent(model)}${selector !== undefined ? `/versions/${encodeURIComponent(selector)}` : ""}/infer`;
      const url = new URL(path, target.apiUrl.endsWith("/") ? target.apiUrl : `${target.apiUrl}/`);
      const res = await reach(target.apiUrl, async () =>
        toApiResponse(
          await fetch(url, {
            method: "POST",
            headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
            body,
            signal: AbortSignal.timeout(60_000),
          }),
        ),
      );
      const ok = res.status >= 200 && res.status <= 299;
      if (opts.json) printJson({ status: res.status, headers: Object.fromEntries(res.headers), body: res.body });
      else if (ok) process.stdout.write(res.text.endsWith("\n") ? res.text : `${res.text}\n`);
      if (!ok) throw apiFailure(res);
    });
}
