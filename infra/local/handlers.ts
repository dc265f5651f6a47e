import type { APIGatewayProxyEvent, APIGatewayProxyResult, StreamifyHandler } from "aws-lambda";
import { createAdminHandler } from "../../functions/admin/create-admin-handler";
import { type AdminWiring, adminDeps } from "../../functions/admin/deps";
import { type AggregatorEvent, type AggregatorResult, createAggregatorHandler } from "../../functions/aggregator/create-aggregator-handler";
import { aggregatorDeps } from "../../functions/aggregator/deps";
import { type AuthorizerHandler, createAuthorizerHandler } from "../../functions/authorizer/create-authorizer-handler";
import type { AwsClients } from "../../functions/aws/clients";
import { DynamoIdentityStore } from "../../functions/aws/identity-store";
import { DynamoUsageSink } from "../../functions/aws/usage-sink";
import { createBatchHandler } from "../../functions/batch/create-batch-handler";
import { batchDeps } from "../../functions/batch/deps";
import { createBatchWorkerHandler } from "../../functions/batch-worker/create-batch-worker-handler";
import { batchWorkerDeps } from "../../functions/batch-worker/deps";
import type { FunctionSettings } from "../../functions/contract/settings";
import type { BatchStore } from "../../functions/core/batch/ports";
import type { PoolCostSource, PoolStateSource } from "../../functions/core/billing/showback-report";
import { LoggedBudgetAlerts } from "../../functions/core/limits/budget-alerts";
import type { AccessLog, UsageReader } from "../../functions/core/ports";
import { rememberingUnknownKeys } from "../../functions/core/unknown-keys";
import { logger } from "../../functions/http/logger";
import { inferenceMetrics, powertoolsMetrics } from "../../functions/http/metrics";
import { createInvokeHandler, type InvokeDeps } from "../../functions/invoke/create-invoke-handler";
import { invokeDeps } from "../../functions/invoke/deps";
import { createLlmHandler } from "../../functions/llm/create-llm-handler";
import { llmDeps } from "../../functions/llm/deps";
import { createShadowHandler } from "../../functions/shadow/create-shadow-handler";
import { shadowDeps } from "../../functions/shadow/deps";
import { createUsageHandler } from "../../functions/usage/create-usage-handler";
import { usageDeps } from "../../functions/usage/deps";
import { LocalBatchQueue } from "./batch-queue";
import { JournalAwareUsageReader, journalAwareAdmin } from "./journal-aware-usage-reader";
import { installAwsLambdaGlobal } from "./lambda-runtime/awslambda-global";
import { UsageJournal } from "./usage-journal";

export type ProxyHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

export interface LocalHandlers {
  readonly authorizer: AuthorizerHandler;
  readonly invoke: ProxyHandler;
  readonly usage: ProxyHandler;
  readonly admin: ProxyHandler;
  /** The OpenAI routes: a streaming function, as `awslambda.streamifyResponse` marks it. */
  readonly llm: StreamifyHandler<APIGatewayProxyEvent, void>;
  /** Invoked through the local Lambda API (asynchronously, by the invoke handler's shadow dispatcher). */
  readonly shadow: (event: unknown) => Promise<void>;
  /** Driven by the local stream poller from DynamoDB Local's stream, as an event source mapping would. */
  readonly aggregator: (event: AggregatorEvent) => Promise<AggregatorResult>;
  /** The Batch API's routes (files, batches). */
  readonly batch: ProxyHandler;
  /** Batch work, delivered to the batch worker handler as SQS would. */
  readonly batchQueue: LocalBatchQueue;
  /** The batch store the queue recovers unfinished batches from at start. */
  readonly batchStore: BatchStore;
  /** Gives back what the invoke and LLM functions' quota leases did not use (at shutdown). */
  returnLeases(): Promise<void>;
}

export interface LocalHandlerOptions {
  readonly clients: AwsClients;
  readonly settings: FunctionSettings;
  readonly shadowFunctionName: string;
  readonly modelBucket: string;
  /** The gateway's access log, as reconciliation reads it (the emulator's JSON-lines file). */
  readonly accessLog: AccessLog;
  /** Pool costs for the admin function's showback: the copies this host ran (a simulation). */
  readonly poolCosts?: PoolCostSource;
  /** What the pools run now, for the Pools page: the emulator's components. */
  readonly poolState?: PoolStateSource;
  /** EMF metric lines on stdout; off by default, since no CloudWatch reads them here. */
  readonly emitMetrics?: boolean;
  /**
   * Where the invoke and LLM functions record usage (openUsageJournal); without one, each
   * writes to the table on the request's path, as in the cloud.
   */
  readonly usageJournal?: UsageJournal;
  /** Replaces parts of the invoke function's wiring (the benchmark's sink that records nothing). */
  readonly invokeOverrides?: Partial<InvokeDeps>;
}

/**
 * Store tuning for one DynamoDB Local, which serializes writes and fails writes that wait
 * long for an item's lock: one usage commit in flight, eight calls per limit item. Where usage is
 * written on the request path (the shadow function; the invoke and LLM functions without a
 * journal, the benchmark's comparison), a commit waits up to 10 ms for company under load: at
 * 200 requests a second it took ~0.7 ms of the JVM's CPU off each request for ~4 ms of median
 * latency (bench/README.md); a lone request does not wait. Quota leases and rate blocks are
 * shared by two holders here (the invoke and the LLM function's stores, in this one process), not
 * the cloud's many Lambda instances, so each may take a larger share.
 */
const DYNAMODB_LOCAL_TUNING = {
  usageSink: { maxInFlight: 1, commitWindowMs: 10 },
  limitStore: { maxInFlightPerItem: 8, holders: 2 },
} as const;

/**
 * The journal's shipper is off every request's path, so its packs wait longer for company:
 * fuller packs, fewer writes for DynamoDB Local (at 200 requests a second, 0.49 ms of its CPU
 * per request with 200 ms against 0.83 with 50 ms: bench/README.md); a record that arrives alone
 * ships at once, and so do those a read of records waits for.
 */
const JOURNAL_SHIP_WINDOW_MS = 200;

/**
 * Opens the local host's usage journal at `path` (ships what a previous process left there
 * first): the invoke and LLM functions' records are durable on this machine's disk when their
 * requests end, and reach the usage table in packs off the request path (./usage-journal.ts).
 */
export function openUsageJournal(clients: AwsClients, settings: FunctionSettings, path: string): Promise<UsageJournal> {
  return UsageJournal.open(
    path,
    (onPack) =>
      new DynamoUsageSink(clients.dynamo, settings.tables.usage, {
        retentionDays: settings.usageRetentionDays,
        maxInFlight: 1,
        commitWindowMs: JOURNAL_SHIP_WINDOW_MS,
        onPack,
      }),
    { onError: (message) => logger.error(message) },
  );
}

/** A local component's copy is a model host started on this machine: an ONNX session or the small LLM, ready in a second or two. */
const LOCAL_INVOKER = { invoker: { wakingRetryAfterSeconds: 2 } } as const;

/**
 * The local host's composition root: every handler built by the same factory the cloud's
 * `functions/<name>/handler.ts` calls, with the same adapters, on clients pointed at the
 * local services, with the local host's tuning.
 */
export function buildLocalHandlers(opts: LocalHandlerOptions): LocalHandlers {
  const { clients, settings } = opts;
  const { dynamo } = clients;
  // Streaming handlers are written against the Lambda runtime's `awslambda` global.
  installAwsLambdaGlobal();
  const metrics = opts.emitMetrics ? { metrics: inferenceMetrics(powertoolsMetrics()) } : {};
  const admin: AdminWiring = {
    modelBucket: opts.modelBucket,
    versionActivation: "automatic",
    accessLog: opts.accessLog,
    ...(opts.poolCosts ? { poolCosts: opts.poolCosts } : {}),
    ...(opts.poolState ? { poolState: opts.poolState } : {}),
  };
  // No event bus here: a budget threshold is a warning in the log, which operators can watch.
  const budgetAlerts = new LoggedBudgetAlerts(logger);
  const wiring = { shadowFunctionName: opts.shadowFunctionName, ...metrics, ...DYNAMODB_LOCAL_TUNING, ...LOCAL_INVOKER, budgetAlerts };
  const journal = opts.usageJournal;
  const journaled = journal ? { usage: journal } : {};
  const invoke = { ...invokeDeps(clients, settings, wiring), ...journaled, ...opts.invokeOverrides };
  const llm = { ...llmDeps(clients, settings, wiring), ...journaled, ...opts.invokeOverrides };
  // Readers see the journal: a read of records waits for those it holds, asOf stops before them.
  const reading = <D extends { usage: UsageReader }>(deps: D): D =>
    journal ? { ...deps, usage: new JournalAwareUsageReader(deps.usage, journal) } : deps;
  const batchQueue = new LocalBatchQueue({ log: (message) => logger.error(message) });
  const batchApi = batchDeps(clients, settings, { modelBucket: opts.modelBucket, queue: batchQueue });
  const worker = batchWorkerDeps(clients, settings, { ...wiring, modelBucket: opts.modelBucket, queue: batchQueue });
  batchQueue.attach(createBatchWorkerHandler(worker));
  return {
    returnLeases: async () => {
      await Promise.all([invoke.limits?.returnLeases?.(), llm.limits?.returnLeases?.(), worker.inference.limits?.returnLeases?.()]);
    },
    batch: createBatchHandler(batchApi),
    batchQueue,
    batchStore: batchApi.store,
    authorizer: createAuthorizerHandler({ keys: rememberingUnknownKeys(new DynamoIdentityStore(dynamo, settings.tables.identity)) }),
    invoke: createInvokeHandler(invoke),
    llm: awslambda.streamifyResponse(createLlmHandler(llm)),
    usage: createUsageHandler(reading(usageDeps(clients, settings, DYNAMODB_LOCAL_TUNING.limitStore, { modelBucket: opts.modelBucket }))),
    admin: createAdminHandler(
      journal ? journalAwareAdmin(adminDeps(clients, settings, admin), journal) : adminDeps(clients, settings, admin),
    ),
    shadow: createShadowHandler(shadowDeps(clients, settings, DYNAMODB_LOCAL_TUNING.usageSink)),
    aggregator: createAggregatorHandler(aggregatorDeps(clients, settings)),
  };
}
