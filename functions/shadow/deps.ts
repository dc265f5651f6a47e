import type { AwsClients } from "../aws/clients";
import { SageMakerInvoker } from "../aws/sagemaker-invoker";
import { DynamoUsageSink, type UsageSinkOptions } from "../aws/usage-sink";
import type { FunctionSettings } from "../contract/settings";
import type { ShadowDeps } from "../core/shadow";

/** The shadow function's adapters: the same for both hosts, tuned by the host. */
export function shadowDeps(
  clients: AwsClients,
  settings: FunctionSettings,
  usageSink: Omit<UsageSinkOptions, "retentionDays"> = {},
): ShadowDeps {
  return {
    invoker: new SageMakerInvoker(clients.sagemakerRuntime),
    usage: new DynamoUsageSink(clients.dynamo, settings.tables.usage, {
      retentionDays: settings.usageRetentionDays,
      ...usageSink,
      // Asynchronous invocations are retried: a redelivered copy must meet its own key.
      maxRecordsPerPack: 1,
    }),
    invokeTimeoutMs: settings.invokeTimeoutMs,
  };
}
