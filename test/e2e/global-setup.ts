import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LocalPlatform, startLocalPlatform } from "../../infra/local/platform";
import { type FaultContainer, startFaultContainer } from "./fault-container";
import { E2E_PLATFORM_ENV, type E2EPlatform } from "./helpers";

let platform: LocalPlatform | undefined;
let dataDir: string | undefined;
let faults: FaultContainer[] = [];

/** One local platform (free ports, temp data dir) shared by every suite of the run. */
export async function setup(): Promise<void> {
  dataDir = mkdtempSync(join(tmpdir(), "modelgate-e2e-"));
  // Requests are logged by the handlers; keep test output readable.
  process.env.POWERTOOLS_LOG_LEVEL = "ERROR";
  process.env.REGISTRY_CACHE_TTL_MS = "500";
  // Containers that fail or answer slowly, behind versions of `iris-fx` (see e2e.config.ts).
  faults = [await startFaultContainer("fail"), await startFaultContainer("slow", 1500)];
  process.env.MG_E2E_FAILING_URL = faults[0]?.url;
  process.env.MG_E2E_SLOW_URL = faults[1]?.url;
  platform = await startLocalPlatform({ port: 0, dataDir, configPath: "test/e2e/e2e.config.ts" });
  const handle: E2EPlatform = {
    url: platform.url,
    dataDir,
    apiKey: platform.credentials.apiKey,
    admin: platform.credentials.admin,
    dynamodb: platform.services.dynamodb,
  };
  // Set before Jest starts its workers, which inherit this environment (and so does an in-band run).
  process.env[E2E_PLATFORM_ENV] = JSON.stringify(handle);
}

export async function teardown(): Promise<void> {
  await platform?.stop();
  for (const f of faults) await f.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}
