import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { logger } from "../../functions/http/logger";
import { buildConsole } from "../../infra/local/console-build";
import { type LlmModelHost, startLlmModelHost } from "../../infra/local/model-host";
import { type LocalPlatform, startLocalPlatform } from "../../infra/local/platform";
import { type FaultContainer, startFaultContainer } from "./fault-container";
import { E2E_PLATFORM_ENV, type E2EPlatform } from "./helpers";

let platform: LocalPlatform | undefined;
let dataDir: string | undefined;
let faults: Array<FaultContainer | LlmModelHost> = [];

/**
 * One local platform (free ports, temp data dir) shared by every suite of the run: the e2e
 * project's and the browser project's (the same globalSetup file, which Jest runs once).
 */
export async function setup(): Promise<void> {
  dataDir = mkdtempSync(join(tmpdir(), "modelgate-e2e-"));
  // Requests are logged by the handlers; keep test output readable.
  logger.setLogLevel("ERROR");
  // Containers that fail or answer slowly, behind versions of `iris-fx` (see e2e.config.ts).
  faults = [await startFaultContainer("fail"), await startFaultContainer("slow", 1500)];
  process.env.MG_E2E_FAILING_URL = faults[0]?.url;
  process.env.MG_E2E_SLOW_URL = faults[1]?.url;
  // tinylm emitting a token every 100 ms: streaming must deliver the first long before the last.
  const slowLlm = await startLlmModelHost({ modelDir: "models/tinylm/1", modelName: "tinylm-slow", version: 1, tokenDelayMs: 100 });
  faults.push(slowLlm);
  process.env.MG_E2E_SLOW_LLM_URL = slowLlm.url;
  // A short registry cache: alias moves reach the handlers within half a second.
  platform = await startLocalPlatform({
    port: 0,
    dataDir,
    configPath: "test/e2e/e2e.config.ts",
    settings: { registryCacheTtlMs: 500 },
    // Scale-to-zero components unload after 1 s idle, so a suite can watch one go and come back.
    componentIdleSeconds: 1,
    // The console at /console, built as `npm start` builds it (the browser suites drive it).
    consoleDir: await buildConsole(join(dataDir, "console")),
  });
  const handle: E2EPlatform = {
    url: platform.url,
    dataDir,
    apiKey: platform.credentials.apiKey,
    admin: platform.credentials.admin,
    dynamodb: platform.services.dynamodb,
    sagemakerRuntime: platform.services.sagemakerRuntime,
  };
  // Set before Jest starts its workers, which inherit this environment (and so does an in-band run).
  process.env[E2E_PLATFORM_ENV] = JSON.stringify(handle);
}

export async function teardown(): Promise<void> {
  await platform?.stop();
  for (const f of faults) await f.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}
