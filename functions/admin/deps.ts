import { S3Client } from "@aws-sdk/client-s3";
import type { APIGatewayProxyEvent } from "aws-lambda";
import { TABLE_ENV } from "../../infra/shared/tables";
import { DynamoAccessLog } from "../aws/access-log";
import { S3ArtifactStore } from "../aws/artifact-store";
import { documentClient } from "../aws/clients";
import { intEnv, requireEnv } from "../aws/env";
import { DynamoIdentityStore } from "../aws/identity-store";
import { DynamoRegistry } from "../aws/registry-store";
import { DynamoUsageReader } from "../aws/usage-reader";
import { DynamoUsageSink } from "../aws/usage-sink";
import { DEFAULT_MAX_KEYS } from "../core/api-keys";
import { jsonBody } from "../http/event";

/** Clients and settings of the admin function, created once per instance. */
const doc = documentClient();
export const identity = new DynamoIdentityStore(doc, requireEnv(TABLE_ENV.identity));
export const registry = new DynamoRegistry(doc, requireEnv(TABLE_ENV.registry));
export const usage = new DynamoUsageReader(doc, requireEnv(TABLE_ENV.usage));
/** Reconciliation: the access records it reads and the sink its repairs write through. */
export const reconciliation = {
  access: new DynamoAccessLog(doc, requireEnv(TABLE_ENV.usage)),
  usage: new DynamoUsageSink(doc, requireEnv(TABLE_ENV.usage), { retentionDays: intEnv("USAGE_RETENTION_DAYS", 400) }),
};
/**
 * How a registered version becomes ready: `automatic` where the host watches the registry and
 * serves new versions itself (the local platform), `deploy` where the operator adds it to the
 * config and runs `cdk deploy` (the cloud). The CLI tells the user what happens next from it.
 */
export const versionActivation = process.env.VERSION_ACTIVATION === "automatic" ? "automatic" : "deploy";

let artifactStore: S3ArtifactStore | undefined;
/** The model store; built on first use so the other admin routes need no bucket configured. */
export function artifacts(): S3ArtifactStore {
  artifactStore ??= new S3ArtifactStore(new S3Client({}), requireEnv("MODEL_BUCKET"));
  return artifactStore;
}
export const maxBodyBytes = intEnv("MAX_BODY_BYTES", 6 * 1024 * 1024);
export const maxKeysPerTenant = intEnv("MAX_KEYS_PER_TENANT", DEFAULT_MAX_KEYS);

/** The JSON body, or `{}` when the request has none (routes whose fields are all optional). */
export const optionalBody = (event: APIGatewayProxyEvent): unknown => (event.body ? jsonBody(event, maxBodyBytes) : {});

/** Who made an admin call: the IAM principal API Gateway verified (SigV4). */
export function actorOf(event: APIGatewayProxyEvent): string {
  return event.requestContext.identity?.userArn ?? event.requestContext.identity?.caller ?? "unknown";
}
