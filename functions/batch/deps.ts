import { S3BatchObjects } from "../aws/batch-objects";
import { DynamoBatchStore } from "../aws/batch-store";
import type { AwsClients } from "../aws/clients";
import type { FunctionSettings } from "../contract/settings";
import type { BatchQueue } from "../core/batch/ports";
import type { BatchHandlerDeps } from "./create-batch-handler";

/** The batch API function's adapters: the usage table's batch items, the model store's batch prefix, the queue. */
export function batchDeps(
  clients: AwsClients,
  settings: FunctionSettings,
  wiring: { readonly modelBucket: string; readonly queue: BatchQueue },
): BatchHandlerDeps {
  return {
    store: new DynamoBatchStore(clients.dynamo, settings.tables.usage),
    objects: new S3BatchObjects(clients.s3(), wiring.modelBucket),
    queue: wiring.queue,
    maxBodyBytes: settings.maxBodyBytes,
  };
}
