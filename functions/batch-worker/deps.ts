import { S3BatchObjects } from "../aws/batch-objects";
import { DynamoBatchStore } from "../aws/batch-store";
import type { AwsClients } from "../aws/clients";
import { KeyedGate } from "../aws/keyed-gate";
import type { FunctionSettings } from "../contract/settings";
import type { BatchQueue } from "../core/batch/ports";
import type { BatchWorkerDeps } from "../core/batch/worker";
import { type InvokeWiring, invokeDeps } from "../invoke/deps";

export interface BatchWorkerWiring extends InvokeWiring {
  readonly modelBucket: string;
  readonly queue: BatchQueue;
  /** Lines of one chunk in flight at once. @default 4 */
  readonly lineConcurrency?: number;
  /** Calls per model in flight in one worker instance, across its chunks. @default 4 */
  readonly perModelConcurrency?: number;
}

/**
 * The batch worker's adapters: the invoke function's inference path (registry, invoker, limits,
 * usage), with a usage sink that writes one record per item. A line run again after a crash
 * writes its record under the same key (its request id and first start time), and only a
 * one-record item is refused as a duplicate by any writer (functions/aws/usage-sink.ts).
 */
export function batchWorkerDeps(clients: AwsClients, settings: FunctionSettings, wiring: BatchWorkerWiring): BatchWorkerDeps {
  const { modelBucket, queue, lineConcurrency, perModelConcurrency, ...invoke } = wiring;
  const inference = invokeDeps(clients, settings, { ...invoke, usageSink: { ...invoke.usageSink, maxRecordsPerPack: 1 } });
  return {
    store: new DynamoBatchStore(clients.dynamo, settings.tables.usage),
    objects: new S3BatchObjects(clients.s3(), modelBucket),
    queue,
    inference,
    lineConcurrency: lineConcurrency ?? 4,
    gate: new KeyedGate(perModelConcurrency ?? 4),
  };
}
