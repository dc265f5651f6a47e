import { CloudWatchLogsClient, type CloudWatchLogsClientConfig } from "@aws-sdk/client-cloudwatch-logs";
import { CostExplorerClient, type CostExplorerClientConfig } from "@aws-sdk/client-cost-explorer";
import { DynamoDBClient, type DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";
import { EventBridgeClient, type EventBridgeClientConfig } from "@aws-sdk/client-eventbridge";
import { LambdaClient, type LambdaClientConfig } from "@aws-sdk/client-lambda";
import { S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";
import { SageMakerClient, type SageMakerClientConfig } from "@aws-sdk/client-sagemaker";
import { SageMakerRuntimeClient, type SageMakerRuntimeClientConfig } from "@aws-sdk/client-sagemaker-runtime";
import { SQSClient, type SQSClientConfig } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { carryCallSignals, SignalledRequestHandler } from "./call-signal";
import { eventStreamDecoding } from "./event-stream-decoding";
import { fastConfig, reuseSigner, skipRetryStep } from "./lean-calls";

/** The SDK clients the handlers use. S3, Lambda, CloudWatch Logs, EventBridge and Cost Explorer are built on first use: few handlers need them. */
export interface AwsClients {
  readonly dynamo: DynamoDBDocumentClient;
  readonly sagemakerRuntime: SageMakerRuntimeClient;
  s3(): S3Client;
  lambda(): LambdaClient;
  /** The admin function's reconciliation reads the gateway's access log with Logs Insights. */
  logs(): CloudWatchLogsClient;
  /** Budget alerts go to the default event bus. */
  events(): EventBridgeClient;
  /** The admin function's showback reads pool costs (the SDK resolves Cost Explorer's one endpoint per partition). */
  costExplorer(): CostExplorerClient;
  /** The batch functions queue batch work. */
  sqs(): SQSClient;
  /** The admin function reads what the pools run now (instances, copies) for the console's Pools page. */
  sagemaker(): SageMakerClient;
}

/** Per-service overrides on top of the defaults below (the local host's endpoints and credentials). */
export interface AwsClientsConfig {
  readonly dynamodb?: DynamoDBClientConfig;
  /**
   * Closes the DynamoDB client's pooled sockets once idle this long, so that they are never
   * closed by the server under a request that reuses them (see DYNAMODB_LOCAL_IDLE_SOCKET_MS).
   * Unset (the cloud's handlers: an instance idle that long would pay a new TLS handshake),
   * pooled sockets stay open until the server closes them.
   */
  readonly dynamodbIdleSocketMs?: number;
  readonly s3?: S3ClientConfig;
  readonly sagemakerRuntime?: SageMakerRuntimeClientConfig;
  readonly lambda?: LambdaClientConfig;
  readonly logs?: CloudWatchLogsClientConfig;
  readonly events?: EventBridgeClientConfig;
  readonly costExplorer?: CostExplorerClientConfig;
  readonly sqs?: SQSClientConfig;
  readonly sagemaker?: SageMakerClientConfig;
}

/**
 * Keep-alive pools larger than the SDK's 50 sockets: one process of the local host serves
 * hundreds of concurrent requests, each holding a model call, and past 50 they queued for a
 * socket (with a warning). A Lambda instance, one request at a time, never gets near either.
 */
const POOL = { httpAgent: { keepAlive: true, maxSockets: 256 }, httpsAgent: { keepAlive: true, maxSockets: 256 } };
/**
 * A DynamoDB call that hangs is cut (and retried) instead of holding the request until the
 * gateway's 29 s integration timeout: 3 attempts of at most 8 s stay inside it.
 */
export const DYNAMODB_TIMEOUTS = { connectionTimeout: 2_000, requestTimeout: 8_000, throwOnRequestTimeout: true } as const;

/**
 * DynamoDB Local's server closes a connection idle for 30 s. A request written to a pooled
 * socket in the instant the server closes it fails with "socket hang up", and a burst after a
 * quiet spell reuses many such sockets at once: in one e2e run two authorizer reads failed so,
 * unretried (the SDK's retry tokens were spent), and their requests were answered 503. The
 * local host's client closes its own idle sockets first.
 */
export const DYNAMODB_LOCAL_IDLE_SOCKET_MS = 20_000;

/** Creates the clients once per composition root (once per Lambda instance in the cloud). */
export function createAwsClients(config: AwsClientsConfig = {}): AwsClients {
  const idle = config.dynamodbIdleSocketMs;
  const agent = { ...POOL.httpAgent, ...(idle !== undefined ? { timeout: idle } : {}) };
  const pool = { httpAgent: agent, httpsAgent: agent };
  const dynamodb = new DynamoDBClient({ maxAttempts: 3, requestHandler: { ...pool, ...DYNAMODB_TIMEOUTS }, ...config.dynamodb });
  reuseSigner(dynamodb);
  fastConfig(dynamodb);
  const dynamo = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  // One attempt: a retried inference doubles model load; the client decides on 503s. Its
  // middleware is resolved once per command, not on every call (the SDK's cacheMiddleware: about
  // a tenth of a request's CPU at saturation, bench/README.md); each call's deadline rides on its
  // input instead of the per-call options that would bypass the cache (./call-signal.ts). A
  // streamed response's messages are decoded in one pass (./event-stream-decoding.ts); one
  // signer signs every call, no retry step runs for the one attempt, and the config the SDK copies
  // on every call is a fast object (./lean-calls.ts).
  const sagemakerRuntime = new SageMakerRuntimeClient({
    maxAttempts: 1,
    ...config.sagemakerRuntime,
    cacheMiddleware: true,
    eventStreamSerdeProvider: eventStreamDecoding,
    requestHandler: new SignalledRequestHandler(NodeHttpHandler.create(config.sagemakerRuntime?.requestHandler ?? POOL)),
  });
  carryCallSignals(sagemakerRuntime);
  reuseSigner(sagemakerRuntime);
  if ((config.sagemakerRuntime?.maxAttempts ?? 1) === 1) skipRetryStep(sagemakerRuntime);
  fastConfig(sagemakerRuntime);
  let s3: S3Client | undefined;
  let lambda: LambdaClient | undefined;
  let logs: CloudWatchLogsClient | undefined;
  let events: EventBridgeClient | undefined;
  let costExplorer: CostExplorerClient | undefined;
  let sqs: SQSClient | undefined;
  let sagemaker: SageMakerClient | undefined;
  return {
    dynamo,
    sagemakerRuntime,
    s3: () => {
      s3 ??= new S3Client({ ...config.s3 });
      return s3;
    },
    lambda: () => {
      lambda ??= new LambdaClient({ maxAttempts: 2, ...config.lambda });
      return lambda;
    },
    logs: () => {
      logs ??= new CloudWatchLogsClient({ ...config.logs });
      return logs;
    },
    events: () => {
      events ??= new EventBridgeClient({ ...config.events });
      return events;
    },
    sqs: () => {
      sqs ??= new SQSClient({ ...config.sqs });
      return sqs;
    },
    sagemaker: () => {
      sagemaker ??= new SageMakerClient({ ...config.sagemaker });
      return sagemaker;
    },
    costExplorer: () => {
      costExplorer ??= new CostExplorerClient({ ...config.costExplorer });
      return costExplorer;
    },
  };
}
