import { execSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildUsageRecord, type UsageRecord } from "../functions/core/usage";
import { startDynamoDbLocal } from "../infra/local/services/dynamodb-local";

export interface ProbeDynamoDb {
  readonly endpoint: string;
  /** The JVM's process id. */
  readonly jvm: number;
  /** CPU time the JVM has used so far, in ms (utime + stime, stat(5) fields 14 and 15, 100 ticks a second). */
  jvmCpuMs(): number;
  /** Stops it and removes its data. */
  stop(): Promise<void>;
}

/**
 * A DynamoDB Local of a probe's own, as the platform starts it (its JVM flags, `-dbPath` on
 * disk in a temporary folder), with its JVM's CPU time: what a probe reads its cost from.
 */
export async function startProbeDynamoDb(name: string): Promise<ProbeDynamoDb> {
  const dir = mkdtempSync(join(tmpdir(), `modelgate-${name}-`));
  const ddb = await startDynamoDbLocal(dir);
  const jvm = execSync("pgrep -x java")
    .toString()
    .trim()
    .split("\n")
    .map(Number)
    .find((pid) => readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(dir));
  if (jvm === undefined) throw new Error("DynamoDB Local's JVM not found");
  return {
    endpoint: ddb.endpoint,
    jvm,
    jvmCpuMs: () => {
      const f = readFileSync(`/proc/${jvm}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
      return (Number(f[11]) + Number(f[12])) * 10;
    },
    stop: async () => {
      await ddb.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A usage record of an iris request answered now, as the gateway writes one. */
export function sampleRecord(): UsageRecord {
  const now = Date.now();
  return buildUsageRecord({
    requestId: randomUUID(),
    receivedAt: now,
    finishedAt: now + 2,
    tenantId: "demo",
    keyId: "k1",
    model: "iris",
    version: 1,
    alias: "prod",
    status: 200,
    bytesIn: 100,
    bytesOut: 120,
  });
}
