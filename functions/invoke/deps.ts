import { TABLE_ENV } from "../../infra/shared/tables";
import { documentClient, sageMakerRuntimeClient } from "../aws/clients";
import { intEnv, requireEnv } from "../aws/env";
import { DynamoRegistry } from "../aws/registry-store";
import { SageMakerInvoker } from "../aws/sagemaker-invoker";
import { DynamoUsageSink } from "../aws/usage-sink";
import { CachedRegistry } from "../core/cached-registry";
import type { InferenceDeps } from "../core/inference";

/** Wiring of the invoke handler, built once per process from the environment. */
export function invokeDeps(): InferenceDeps & { readonly maxBodyBytes: number } {
  const doc = documentClient();
  return {
    registry: new CachedRegistry(new DynamoRegistry(doc, requireEnv(TABLE_ENV.registry)), intEnv("REGISTRY_CACHE_TTL_MS", 5000)),
    invoker: new SageMakerInvoker(sageMakerRuntimeClient()),
    usage: new DynamoUsageSink(doc, requireEnv(TABLE_ENV.usage), { retentionDays: intEnv("USAGE_RETENTION_DAYS", 400) }),
    invokeTimeoutMs: intEnv("INVOKE_TIMEOUT_MS", 25_000),
    maxBodyBytes: intEnv("MAX_BODY_BYTES", 6 * 1024 * 1024),
  };
}
