import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocalPlatform } from "../infra/local/platform";

/** The platform under test, in its own process so the load generator does not share its event loop. */
process.env.POWERTOOLS_LOG_LEVEL = "ERROR";
const platform = await startLocalPlatform({
  port: 0,
  dataDir: mkdtempSync(join(tmpdir(), "modelgate-bench-")),
  configPath: "modelgate.config.ts",
});
process.send?.({ url: platform.url, apiKey: platform.credentials.apiKey, modelHosts: platform.services.modelHosts });
process.on("message", async (m) => {
  if (m === "stop") {
    await platform.stop();
    process.exit(0);
  }
});
