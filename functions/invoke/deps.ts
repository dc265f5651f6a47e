import type { AwsClients } from "../aws/clients";
import { LambdaShadowDispatcher } from "../aws/lambda-shadow-dispatcher";
import { DynamoLimitStore, type LimitStoreOptions } from "../aws/limit-store";
import { DynamoRegistry } from "../aws/registry-store";
import { SageMakerInvoker, type SageMakerInvokerOptions } from "../aws/sagemaker-invoker";
import { DynamoUsageReader } from "../aws/usage-reader";
import { DynamoUsageSink, type UsageSinkOptions } from "../aws/usage-sink";
import type { FunctionSettings } from "../contract/settings";
import { CachedRegistry } from "../core/cached-registry";
import type { BudgetAlertSink } from "../core/limits/budget-alerts";
import { logger } from "../http/logger";
import type { InferenceMetricsPublisher } from "../http/metrics";
import type { InvokeDeps } from "./create-invoke-handler";

export interface InvokeWiring {
  /** The function that runs sampled shadow copies; without one, aliases' shadows are not served. */
  readonly shadowFunctionName?: string;
  readonly metrics?: InferenceMetricsPublisher;
  /** Store tuning where a host differs from the cloud's defaults (the local host: one DynamoDB Local). */
  readonly usageSink?: Omit<UsageSinkOptions, "retentionDays">;
  readonly limitStore?: Omit<LimitStoreOptions, "leaseMs">;
  /** Invoker tuning where a host differs (the local host: copies that wake in a second or two). */
  readonly invoker?: SageMakerInvokerOptions;
  /** Where budget thresholds are announced (the cloud: EventBridge; the local host: a log line). */
  readonly budgetAlerts?: BudgetAlertSink;
}

/**
 * The invoke function's adapters on DynamoDB, SageMaker and Lambda: the same for both hosts
 * (and for the LLM function, whose requests may last `longestRequestMs`).
 */
export function invokeDeps(
  clients: AwsClients,
  settings: FunctionSettings,
  wiring: InvokeWiring = {},
  longestRequestMs = settings.invokeTimeoutMs,
): InvokeDeps {
  const { dynamo } = clients;
  const retentionDays = settings.usageRetentionDays;
  return {
    registry: new CachedRegistry(new DynamoRegistry(dynamo, settings.tables.registry), settings.registryCacheTtlMs),
    invoker: new SageMakerInvoker(clients.sagemakerRuntime, undefined, wiring.invoker),
    usage: new DynamoUsageSink(dynamo, settings.tables.usage, { retentionDays, ...wiring.usageSink }),
    invokeTimeoutMs: settings.invokeTimeoutMs,
    // A concurrency slot outlives the longest request by a margin (a crashed holder frees it then).
    // A dead holder's quota lease is given back by counting the usage records that carry its id.
    limits: new DynamoLimitStore(dynamo, settings.tables.usage, {
      ...wiring.limitStore,
      leaseMs: longestRequestMs + 30_000,
      ...(wiring.budgetAlerts
        ? {
            budgetAlerts: wiring.budgetAlerts,
            onAlertError: (err: unknown) => logger.warn("budget alert not published", { error: String(err) }),
          }
        : {}),
      quotaLeases:
        wiring.limitStore?.quotaLeases === false
          ? false
          : { usage: new DynamoUsageReader(dynamo, settings.tables.usage), ...wiring.limitStore?.quotaLeases },
    }),
    ...(wiring.shadowFunctionName
      ? {
          shadow: new LambdaShadowDispatcher(clients.lambda(), wiring.shadowFunctionName),
          onShadowError: (err: unknown) => logger.warn("shadow copy not handed off", { error: String(err) }),
        }
      : {}),
    maxBodyBytes: settings.maxBodyBytes,
    ...(wiring.metrics ? { metrics: wiring.metrics } : {}),
  };
}
