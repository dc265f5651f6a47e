import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { TABLE_ENV } from "../../infra/shared/tables";
import { DynamoAccessJournal } from "../aws/access-journal";
import { documentClient, sageMakerRuntimeClient } from "../aws/clients";
import { intEnv, requireEnv } from "../aws/env";
import { shadowDispatcherFromEnv } from "../aws/lambda-shadow-dispatcher";
import { DynamoLimitStore } from "../aws/limit-store";
import { DynamoRegistry } from "../aws/registry-store";
import { SageMakerInvoker } from "../aws/sagemaker-invoker";
import { DynamoUsageSink, discardingUsageSink } from "../aws/usage-sink";
import { CachedRegistry } from "../core/cached-registry";
import type { InferenceDeps } from "../core/inference";
import type { ShadowDispatcher } from "../core/shadow";
import { logger } from "../http/logger";

/** Wiring of the invoke handler, built once per process from the environment. */
export function invokeDeps(): InferenceDeps & { readonly maxBodyBytes: number } {
  const doc = documentClient();
  return {
    registry: new CachedRegistry(new DynamoRegistry(doc, requireEnv(TABLE_ENV.registry)), intEnv("REGISTRY_CACHE_TTL_MS", 5000)),
    invoker: new SageMakerInvoker(sageMakerRuntimeClient()),
    ...metering(doc),
    invokeTimeoutMs: intEnv("INVOKE_TIMEOUT_MS", 25_000),
    limits: new DynamoLimitStore(doc, requireEnv(TABLE_ENV.usage), { leaseMs: intEnv("INVOKE_TIMEOUT_MS", 25_000) + 30_000 }),
    ...withShadow(shadowDispatcherFromEnv()),
    maxBodyBytes: intEnv("MAX_BODY_BYTES", 6 * 1024 * 1024),
  };
}

/**
 * The usage sink and the access journal reconciliation reads. USAGE_METERING=off is for the
 * benchmark only (bench/README.md): it measures what metering costs, both writes included.
 */
function metering(doc: DynamoDBDocumentClient): Pick<InferenceDeps, "usage" | "access"> {
  if (process.env.USAGE_METERING === "off") return { usage: discardingUsageSink };
  const table = requireEnv(TABLE_ENV.usage);
  const retentionDays = intEnv("USAGE_RETENTION_DAYS", 400);
  return {
    usage: new DynamoUsageSink(doc, table, { retentionDays }),
    access: new DynamoAccessJournal(doc, table, { retentionDays }),
  };
}

function withShadow(shadow: ShadowDispatcher | undefined): Pick<InferenceDeps, "shadow" | "onShadowError"> {
  if (!shadow) return {};
  return { shadow, onShadowError: (err) => logger.warn("shadow copy not handed off", { error: String(err) }) };
}
