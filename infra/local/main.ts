import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError } from "../shared/config";
import { DEFAULT_CONFIG_FILE } from "../shared/load-config";
import { buildConsole } from "./console-build";
import { logUnhandledRejections } from "./http-guard";
import { installAwsLambdaGlobal } from "./lambda-runtime/awslambda-global";
import { startLocalPlatform } from "./platform";

/**
 * `npm start`: the whole platform on this machine.
 *   --port <n>       (MODELGATE_PORT, default 8080; 0 picks a free port)
 *   --data-dir <dir> (MODELGATE_DATA_DIR, default .modelgate)
 *   --config <file>  (MODELGATE_CONFIG, default modelgate.config.ts)
 */
const USAGE = "usage: npm start -- [--port <n>] [--data-dir <dir>] [--config <file>]";

async function main(): Promise<void> {
  logUnhandledRejections();
  // Before any handler module loads: streaming handlers call awslambda.streamifyResponse at load.
  installAwsLambdaGlobal();
  const { values } = parseArgs({
    options: {
      port: { type: "string" },
      "data-dir": { type: "string" },
      config: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const port = Number(values.port ?? process.env.MODELGATE_PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a port number, got '${values.port}'`);
  const dataDir = values["data-dir"] ?? process.env.MODELGATE_DATA_DIR ?? ".modelgate";
  const configPath = values.config ?? process.env.MODELGATE_CONFIG ?? DEFAULT_CONFIG_FILE;

  // EMF lines on stdout only on request: no CloudWatch reads them here.
  const emitMetrics = process.env.MODELGATE_METRICS === "on";
  // The console is built at each start (about a second) into the data dir, never committed.
  const consoleDir = await buildConsole(resolve(dataDir, "console"));
  const platform = await startLocalPlatform({ port, dataDir, configPath, emitMetrics, consoleDir });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`modelgate: ${signal}, stopping`);
    await platform.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));

  const firstModel = Object.keys(platform.config.models)[0] ?? "iris";
  // The key is printed by the start that created it only; later starts say where it is kept.
  const credentialsFile = resolve(dataDir, "credentials.json");
  const keyInCurl = platform.newDemoKey ?? "$MODELGATE_API_KEY";
  if (platform.newDemoKey) {
    console.log(`\nDemo tenant 'demo' created. Its API key (shown once; also in ${credentialsFile}):\n\n  ${platform.newDemoKey}\n`);
  } else {
    console.log(`\nThe demo tenant's API key is in ${credentialsFile} ("apiKey"):\n`);
    console.log(`  export MODELGATE_API_KEY=$(node -p 'require(${JSON.stringify(credentialsFile)}).apiKey')\n`);
  }
  console.log(
    `Try it:\n\n  curl -s ${platform.url}/v2/models/${firstModel}/infer \\\n` +
      `    -H "Authorization: Bearer ${keyInCurl}" \\\n` +
      `    -H "content-type: application/json" \\\n` +
      `    -d '{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[5.1,3.5,1.4,0.2]}]}'\n`,
  );
  console.log(`Console: ${platform.url}/console/ (sign in with the "admin" pair in ${credentialsFile}, or a tenant key)\n`);
  console.log(`modelgate ready on ${platform.url}`);
}

main().catch((err: unknown) => {
  const message = err instanceof ConfigError ? err.message : err instanceof Error ? err.message : String(err);
  console.error(`modelgate: ${message}`);
  process.exit(1);
});
