import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SageMakerRuntimeClient } from "@aws-sdk/client-sagemaker-runtime";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

/**
 * SDK clients, created once per module (so once per Lambda instance). Endpoints come from
 * the standard `AWS_ENDPOINT_URL_<SERVICE>` variables: the local host sets them, the cloud
 * does not, and no code here knows which host it runs on.
 */
let dynamo: DynamoDBDocumentClient | undefined;
let sagemaker: SageMakerRuntimeClient | undefined;

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

export function documentClient(): DynamoDBDocumentClient {
  dynamo ??= DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 3, requestHandler: { ...POOL, ...DYNAMODB_TIMEOUTS } }), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return dynamo;
}

export function sageMakerRuntimeClient(): SageMakerRuntimeClient {
  // One attempt: a retried inference doubles model load; the client decides on 503s.
  sagemaker ??= new SageMakerRuntimeClient({ maxAttempts: 1, requestHandler: POOL });
  return sagemaker;
}
