import { mkdtempSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AdminClient } from "../cli/api-client";
import type { UsageSink } from "../functions/core/ports";
import { logger } from "../functions/http/logger";
import { startLocalPlatform } from "../infra/local/platform";
import { type CapacityTotals, meterConsumedCapacity } from "./capacity-meter";
import { watchLoop } from "./loop-stats";

/** Records nothing: the benchmark's metering-off rounds only, to show what metering costs. */
const discardingUsageSink: UsageSink = { record: async () => "recorded" };
const unmetered = process.env.MODELGATE_BENCH_METERING === "off";

/**
 * The platform under test, in its own process so the load generator does not share its event
 * loop. The parent sets MODELGATE_BENCH_METERING=off in the environment of the metering-off
 * child, which then builds its invoke handler with a sink that records nothing: the factory's
 * seam, not a switch in Lambda code.
 * Messages: "stop"; "loop-stats", the event loop's window since the last ask (./loop-stats.ts);
 * "profile-start" and {profileStop: file}, V8 CPU profile of just the loaded window
 * (bench/profile.ts), without start-up noise.
 */
logger.setLogLevel("ERROR");
let capacity: { totals(): CapacityTotals } | undefined;
// MODELGATE_DATA_DIR / MODELGATE_CONFIG: the crash-recovery tests restart a platform on its data.
const platform = await startLocalPlatform({
  port: 0,
  dataDir: process.env.MODELGATE_DATA_DIR ?? mkdtempSync(join(tmpdir(), "modelgate-bench-")),
  configPath: process.env.MODELGATE_CONFIG ?? "modelgate.config.ts",
  ...(unmetered ? { invokeOverrides: { usage: discardingUsageSink } } : {}),
  ...(process.env.MODELGATE_BENCH_JOURNAL === "off" ? { usageJournal: false } : {}),
  instrumentClients: (clients) => {
    capacity = meterConsumedCapacity(clients.dynamo);
  },
});
/** A second tenant whose requests count against a monthly quota (one that is never reached). */
async function quotaTenant(): Promise<string> {
  const admin = new AdminClient({
    apiUrl: platform.url,
    region: platform.credentials.admin.region,
    credentials: platform.credentials.admin,
  });
  const tenantId = `bench-quota-${Date.now().toString(36)}`;
  const created = await admin.request("POST", "/admin/tenants", {
    tenantId,
    models: ["iris", "tinylm"],
    limits: { monthlyRequests: 100_000_000 },
  });
  if (created.status !== 201) throw new Error(`quota tenant: ${created.status} ${created.text}`);
  const key = await admin.request<{ apiKey: string }>("POST", `/admin/tenants/${tenantId}/keys`, {});
  if (key.status !== 201) throw new Error(`quota key: ${key.status} ${key.text}`);
  return key.body.apiKey;
}
process.send?.({
  url: platform.url,
  dynamodb: platform.services.dynamodb,
  apiKey: platform.credentials.apiKey,
  // Only the benchmark asks for it: the crash tests that run this child count every request.
  ...(process.env.MODELGATE_BENCH_QUOTA_TENANT === "on" ? { quotaApiKey: await quotaTenant() } : {}),
  modelHosts: platform.services.modelHosts,
  sagemakerRuntime: platform.services.sagemakerRuntime,
});

// The loop's busy share, timer lateness and GC pauses, per window the parent asks for
// ("loop-stats"). Watched from the first ask on: its 10-ms timer would otherwise be most of an
// idle platform's wake-ups.
let loop: ReturnType<typeof watchLoop> | undefined;
let session: Session | undefined;
const stop = async () => {
  await platform.stop();
  process.exit(0);
};
process.on("message", async (m: unknown) => {
  if (m === "stop") return void stop();
  if (m === "capacity") return void process.send?.({ capacity: capacity?.totals() });
  if (m === "loop-stats") {
    loop ??= watchLoop();
    return void process.send?.({ loopStats: loop.take() });
  }
  if (m === "profile-start") {
    session = new Session();
    session.connect();
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 200 });
    await session.post("Profiler.start");
    process.send?.("profiling");
  } else if (typeof m === "object" && m !== null && "profileStop" in m && session) {
    const { profile } = await session.post("Profiler.stop");
    writeFileSync(String(m.profileStop), JSON.stringify(profile));
    session.disconnect();
    process.send?.("profiled");
  }
});
// A parent that died (an error, Ctrl-C) must not leave a platform and its JVM running.
process.on("disconnect", () => void stop());
