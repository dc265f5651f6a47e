import { describe, expect, it } from "@jest/globals";
import type { IConstruct } from "constructs";
import { limitPk } from "../../functions/aws/limit-items";
import { BATCH_ACTIVE_PK, BATCH_FILE_PK_PREFIX, BATCH_LINE_PK_PREFIX, BATCH_PK_PREFIX } from "../../functions/contract/batch-keys";
import { INVOICE_PREFIX, invoiceKey, tenantInvoicePrefix } from "../../functions/contract/invoice-keys";
import { artifactKey } from "../../functions/contract/seed";
import {
  AGGREGATE_PK_PREFIX,
  CHECKPOINT_PK,
  FRESHNESS_PK_PREFIX,
  LIMIT_PK_PREFIX,
  RECORD_PK_PREFIX,
  recordPk,
} from "../../functions/contract/usage-keys";
import { BATCH_PREFIX } from "../../functions/core/batch/ports";
import { UPLOAD_PREFIX, versionArtifactKey } from "../../functions/core/versions";
import { DATA_CAPTURE_PREFIX, MODEL_ARTIFACT_PREFIX } from "../../infra/aws/constructs/model-store";
import { artifactDir, type Permission, permissionsOfRole, synthPlatform } from "./fixtures";

/**
 * Each function's role is allowed exactly what its code sends: every action granted to the role
 * (all the policies attached to it) must be on the function's list below, on the resources listed
 * there, and everything on the list must be granted. The list says which code sends each action;
 * a grant nothing sends fails here, and so does a command that loses its grant (which the cloud
 * would only answer with AccessDenied at run time).
 *
 * One model with a version in each layout: a variant on the model's endpoint (v1) and an
 * inference component on a pool (v2), so the model routes' grants name both kinds of target.
 */
const dir = artifactDir({ "iris/1/model.onnx": "iris v1", "iris/2/model.onnx": "iris v2" });
const config = {
  name: "mgiam",
  pools: { cpu: { instanceType: "ml.c5.2xlarge", instances: { min: 1, max: 2 } } },
  models: {
    iris: {
      versions: [
        { version: 1, artifact: "iris/1/model.onnx", instanceType: "ml.c5.xlarge" },
        { version: 2, artifact: "iris/2/model.onnx", placement: { pool: "cpu", cpus: 1, memoryMiB: 1024, copies: { min: 1, max: 1 } } },
      ],
      aliases: { prod: 1 },
    },
  },
};
const { stack, template, violations } = synthPlatform({ config, baseDir: dir, bundling: false });

/** Readable names of the resources the functions' policies name, by logical id. */
const names = new Map<string, string>();
const name = (c: IConstruct | undefined, as: string) => {
  if (!c) throw new Error(`no construct for ${as}`);
  names.set(stack.getLogicalId(c as never), as);
};
for (const id of ["identity", "registry", "usage"] as const) name(stack.tables[id].node.defaultChild, `${id}-table`);
name(stack.store.bucket.node.defaultChild, "store-bucket");
name(stack.store.key.node.defaultChild, "store-key");
name(stack.gateway.accessLogs.node.defaultChild, "access-logs");
name(stack.aggregator.deadLetters.node.defaultChild, "failed-batches");
name(stack.batchQueue.queue.node.defaultChild, "batch-queue");
for (const [fn, f] of Object.entries(stack.functions)) {
  name(f.function.node.defaultChild, `${fn}-function`);
  name(f.logGroup.node.defaultChild, `${fn}-logs`);
}
name(stack.seeder.handler.logGroup.node.defaultChild, "seed-logs");

/**
 * A resource as text: `Fn::GetAtt` of Arn by the resource's name (other attributes as
 * `name.Attr`), a `Ref` of a resource as `name.Ref`, pseudo parameters as `aws`, `region`,
 * `account`, `Fn::Join` joined. A resource this test has no name for fails.
 */
function text(v: unknown): string {
  if (typeof v === "string") return v;
  const o = v as Record<string, unknown>;
  if (Array.isArray(o["Fn::GetAtt"])) {
    const [id, attr] = o["Fn::GetAtt"] as [string, string];
    const n = names.get(id);
    if (!n) throw new Error(`a policy names ${id}, which this test does not know`);
    return attr === "Arn" ? n : `${n}.${attr}`;
  }
  if (typeof o.Ref === "string") {
    const pseudo: Record<string, string> = { "AWS::Partition": "aws", "AWS::Region": "region", "AWS::AccountId": "account" };
    const n = pseudo[o.Ref] ?? (names.has(o.Ref) ? `${names.get(o.Ref)}.Ref` : undefined);
    if (!n) throw new Error(`a policy names ${o.Ref}, which this test does not know`);
    return n;
  }
  if (Array.isArray(o["Fn::Join"])) {
    const [sep, parts] = o["Fn::Join"] as [string, unknown[]];
    return parts.map(text).join(sep);
  }
  throw new Error(`cannot read ${JSON.stringify(v)}`);
}

/** `resource` or `resource if <leading keys>`: what a grant reaches. */
function reach(p: Permission): string {
  const keys = (p.condition as { "ForAllValues:StringLike"?: { "dynamodb:LeadingKeys"?: string[] } } | undefined)?.[
    "ForAllValues:StringLike"
  ]?.["dynamodb:LeadingKeys"];
  const other = p.condition !== undefined && keys === undefined ? ` if ${JSON.stringify(p.condition)}` : "";
  return `${text(p.resource)}${keys ? ` if ${keys.join(" ")}` : ""}${other}`;
}

type Allowed = Readonly<Record<string, readonly string[]>>;

/** Action → what it reaches, for a role: every policy attached to it, no AWS managed policy. */
function granted(roleLogicalId: string): Record<string, string[]> {
  const { permissions, managedPolicyArns } = permissionsOfRole(template, roleLogicalId);
  expect(managedPolicyArns).toEqual([]);
  const out: Record<string, string[]> = {};
  for (const p of permissions) out[p.action] = [...(out[p.action] ?? []), reach(p)];
  for (const k of Object.keys(out)) out[k] = [...new Set(out[k])].sort();
  return out;
}

const arn = (service: string, resource: string) => `arn:aws:${service}:region:account:${resource}`;
const VARIANT_ENDPOINT = arn("sagemaker", "endpoint/mgiam-iris");
const POOL_ENDPOINT = arn("sagemaker", "endpoint/mgiam-pool-cpu");
const COMPONENT = arn("sagemaker", "inference-component/mgiam-iris-v2");
/** What the model routes call: the variant endpoint, and the component with its pool's endpoint. */
const MODEL_TARGETS = [VARIANT_ENDPOINT, POOL_ENDPOINT, COMPONENT];
const TRACING = { "xray:PutTraceSegments": ["*"], "xray:PutTelemetryRecords": ["*"] };
const ownLogs = (fn: string) => ({ "logs:CreateLogStream": [`${fn}-logs`], "logs:PutLogEvents": [`${fn}-logs`] });
const REC = `usage-table if ${RECORD_PK_PREFIX}*`;
const LIMIT = `usage-table if ${LIMIT_PK_PREFIX}*`;
/** What both model functions (invoke, and llm: llmDeps is invokeDeps) send. */
const MODEL_ROUTE_ACCESS = {
  ...TRACING,
  // SageMakerInvoker.invoke (InvokeEndpointCommand), through runInference.
  "sagemaker:InvokeEndpoint": MODEL_TARGETS,
  // LambdaShadowDispatcher (InvokeCommand, InvocationType Event).
  "lambda:InvokeFunction": ["shadow-function"],
  // DynamoRegistry.getModel, listModels (queryAll) behind CachedRegistry;
  // DynamoUsageReader.records for quota lease reclaim (paginateQuery: REC# partitions).
  "dynamodb:Query": ["registry-table", REC],
  // DynamoUsageSink.commit (PutCommand).
  "dynamodb:PutItem": [REC],
  // DynamoLimitCells.get (GetCommand); send (UpdateCommand).
  "dynamodb:GetItem": [LIMIT],
  "dynamodb:UpdateItem": [LIMIT],
  // EventBridgeBudgetAlerts (PutEventsCommand on the default bus).
  "events:PutEvents": [arn("events", "event-bus/default")],
};
/** Issued invoices: objects under the prefix, and listings held to it. */
const INVOICES = `store-bucket/${INVOICE_PREFIX}*`;
const INVOICE_LISTING = `store-bucket if ${JSON.stringify({ StringLike: { "s3:prefix": [`${INVOICE_PREFIX}*`] } })}`;

/** The Batch API's items (DynamoBatchStore) and files (S3BatchObjects). */
const BATCH_API_ITEMS = `usage-table if ${BATCH_FILE_PK_PREFIX}* ${BATCH_PK_PREFIX}* ${BATCH_ACTIVE_PK}`;
const BATCH_WORK_ITEMS = `usage-table if ${BATCH_FILE_PK_PREFIX}* ${BATCH_PK_PREFIX}* ${BATCH_LINE_PK_PREFIX}* ${BATCH_ACTIVE_PK}`;
const BATCH_FILES = `store-bucket/${BATCH_PREFIX}*`;
const BATCH_LISTING = `store-bucket if ${JSON.stringify({ StringLike: { "s3:prefix": [`${BATCH_PREFIX}*`] } })}`;
const BATCH_FILE_ACCESS = {
  // S3BatchObjects: get (GetObjectCommand), size (HeadObjectCommand, authorized as GetObject), put and
  // presigned PUTs (PutObjectCommand), delete (DeleteObjectCommand); ListBucket so a missing key is a 404.
  "s3:GetObject": [BATCH_FILES],
  "s3:PutObject": [BATCH_FILES],
  "s3:DeleteObject": [BATCH_FILES],
  "s3:ListBucket": [BATCH_LISTING],
  "kms:Decrypt": ["store-key"],
  "kms:GenerateDataKey": ["store-key"],
  // SqsBatchQueue.send (SendMessageBatch, authorized as SendMessage); grantSendMessages adds the other two.
  "sqs:SendMessage": ["batch-queue"],
  "sqs:GetQueueAttributes": ["batch-queue"],
  "sqs:GetQueueUrl": ["batch-queue"],
};

/** Each function: the actions its code sends (functions/<fn>/deps.ts → functions/aws/*), and on what. */
const ALLOWED: Readonly<Record<string, Allowed>> = {
  authorizer: {
    ...ownLogs("authorizer"),
    ...TRACING,
    // DynamoIdentityStore.getKey, getTenant (GetCommand); touchKey (UpdateCommand).
    "dynamodb:GetItem": ["identity-table"],
    "dynamodb:UpdateItem": ["identity-table"],
  },
  invoke: { ...ownLogs("invoke"), ...MODEL_ROUTE_ACCESS },
  llm: {
    ...ownLogs("llm"),
    ...MODEL_ROUTE_ACCESS,
    // runStreamingInference: SageMakerInvoker.invokeStream (only the OpenAI routes stream).
    "sagemaker:InvokeEndpointWithResponseStream": MODEL_TARGETS,
  },
  usage: {
    ...ownLogs("usage"),
    ...TRACING,
    // DynamoUsageReader.aggregates (AGG#), records (REC#), freshness (FRESH#, REC#).
    "dynamodb:Query": [`usage-table if ${RECORD_PK_PREFIX}* ${AGGREGATE_PK_PREFIX}* ${FRESHNESS_PK_PREFIX}*`],
    // DynamoLimitCells: status reads (GetCommand) and the usage-read rate (UpdateCommand).
    "dynamodb:GetItem": [LIMIT],
    "dynamodb:UpdateItem": [LIMIT],
    // S3InvoiceStore: get, getRendition (GetObjectCommand), months (ListObjectsV2Command).
    "s3:GetObject": [INVOICES],
    "s3:ListBucket": [INVOICE_LISTING],
    "kms:Decrypt": ["store-key"],
  },
  admin: {
    ...ownLogs("admin"),
    ...TRACING,
    // DynamoPoolCatalog.pools (GetCommand of the registry's POOLS item) for showback.
    // DynamoIdentityStore: getKey, getTenant (GetCommand); createTenant (PutCommand), putKey
    // (TransactWriteCommand: Update, Put, Update); updateTenant, setKeyLimits, revokeKey
    // (UpdateCommand). DynamoRegistry: getAlias, aliasHistoryEntry (GetCommand); setAlias
    // (TransactWriteCommand: Put, Put), registerVersion (ConditionCheck, Put); setVersionStatus (UpdateCommand).
    "dynamodb:GetItem": ["identity-table", "registry-table"],
    "dynamodb:PutItem": ["identity-table", "registry-table", REC],
    "dynamodb:UpdateItem": ["identity-table", "registry-table"],
    "dynamodb:ConditionCheckItem": ["registry-table"],
    // listTenants, listKeys (QueryCommand, queryAll on gsi1); DynamoRegistry getModel, listModels,
    // aliasHistory; DynamoUsageReader for usage reports and reconciliation.
    "dynamodb:Query": [
      "identity-table/index/gsi1",
      "registry-table",
      `usage-table if ${RECORD_PK_PREFIX}* ${AGGREGATE_PK_PREFIX}* ${FRESHNESS_PK_PREFIX}*`,
    ],
    // S3ArtifactStore: digest (GetObjectCommand), copy (CopyObjectCommand of a version id:
    // GetObjectVersion on the source, PutObject on the destination), delete (DeleteObjectCommand).
    // S3InvoiceStore: get, getRendition (GetObjectCommand); put, putRenditions (PutObjectCommand,
    // the document with If-None-Match); months, all (ListObjectsV2Command under invoices/).
    "s3:GetObject": [`store-bucket/${UPLOAD_PREFIX}*`, INVOICES],
    "s3:GetObjectVersion": [`store-bucket/${UPLOAD_PREFIX}*`],
    "s3:DeleteObject": [`store-bucket/${UPLOAD_PREFIX}*`],
    "s3:PutObject": [`store-bucket/${MODEL_ARTIFACT_PREFIX}*`, INVOICES],
    "s3:ListBucket": [INVOICE_LISTING],
    "kms:Decrypt": ["store-key"],
    "kms:GenerateDataKey": ["store-key"],
    // CloudWatchAccessLog: StartQueryCommand, GetQueryResultsCommand (by query id: no resource).
    "logs:StartQuery": ["access-logs", arn("logs", "log-group:access-logs.Ref")],
    "logs:GetQueryResults": ["*"],
    // CostExplorerPoolCosts (GetCostAndUsageCommand, filtered by the pools' cost-allocation tag:
    // Cost Explorer has no resource-level permissions). Showback is the admin function's alone.
    "ce:GetCostAndUsage": ["*"],
    // SageMakerPoolState (GET /admin/pools): DescribeEndpoint of the pool, DescribeInferenceComponent
    // of its components; never a variant endpoint of its own.
    "sagemaker:DescribeEndpoint": [POOL_ENDPOINT],
    "sagemaker:DescribeInferenceComponent": [COMPONENT],
  },
  shadow: {
    ...ownLogs("shadow"),
    ...TRACING,
    // SageMakerInvoker.invoke (runShadow); DynamoUsageSink.commit (PutCommand).
    "sagemaker:InvokeEndpoint": MODEL_TARGETS,
    "dynamodb:PutItem": [REC],
  },
  aggregator: {
    ...ownLogs("aggregator"),
    ...TRACING,
    // DynamoAggregateStore.checkpoint (GetCommand); apply (TransactWriteCommand of Updates).
    "dynamodb:GetItem": [`usage-table if ${AGGREGATE_PK_PREFIX}* ${FRESHNESS_PK_PREFIX}* ${CHECKPOINT_PK}`],
    "dynamodb:UpdateItem": [`usage-table if ${AGGREGATE_PK_PREFIX}* ${FRESHNESS_PK_PREFIX}* ${CHECKPOINT_PK}`],
    // The event source mapping reads the stream (Lambda's poller, with the function's role) and
    // sends failed batches to the queue (aws-cdk-lib's DynamoEventSource and SqsDlq grants).
    "dynamodb:DescribeStream": ["usage-table.StreamArn"],
    "dynamodb:GetRecords": ["usage-table.StreamArn"],
    "dynamodb:GetShardIterator": ["usage-table.StreamArn"],
    "dynamodb:ListStreams": ["usage-table.StreamArn"],
    "sqs:SendMessage": ["failed-batches"],
    "sqs:GetQueueAttributes": ["failed-batches"],
    "sqs:GetQueueUrl": ["failed-batches"],
  },
  batch: {
    ...ownLogs("batch"),
    ...TRACING,
    ...BATCH_FILE_ACCESS,
    // DynamoBatchStore: files (Put, Get, Delete), batches (TransactWrite of Puts, Get, Query, Update), active marks (Put, Delete).
    "dynamodb:GetItem": [BATCH_API_ITEMS],
    "dynamodb:PutItem": [BATCH_API_ITEMS],
    "dynamodb:UpdateItem": [BATCH_API_ITEMS],
    "dynamodb:DeleteItem": [BATCH_API_ITEMS],
    "dynamodb:Query": [BATCH_API_ITEMS],
  },
  batchWorker: {
    ...ownLogs("batchWorker"),
    ...TRACING,
    ...BATCH_FILE_ACCESS,
    // The model routes' path (invokeDeps without a shadow dispatcher), and DynamoBatchStore with the lines and chunks.
    "sagemaker:InvokeEndpoint": MODEL_TARGETS,
    "dynamodb:Query": ["registry-table", REC, BATCH_WORK_ITEMS],
    "dynamodb:PutItem": [REC, BATCH_WORK_ITEMS],
    "dynamodb:GetItem": [LIMIT, BATCH_WORK_ITEMS],
    "dynamodb:UpdateItem": [LIMIT, BATCH_WORK_ITEMS],
    "dynamodb:DeleteItem": [BATCH_WORK_ITEMS],
    "events:PutEvents": [arn("events", "event-bus/default")],
    // The SQS event source mapping (Lambda's poller, with the function's role: aws-cdk-lib's SqsEventSource grant).
    "sqs:ReceiveMessage": ["batch-queue"],
    "sqs:DeleteMessage": ["batch-queue"],
    "sqs:ChangeMessageVisibility": ["batch-queue"],
  },
  seed: {
    ...ownLogs("seed"),
    ...TRACING,
    // seedRegistry: models, versions, aliases, the pools item (PutCommand, conditional where absent); placeServing,
    // activateRegistered (UpdateCommand).
    "dynamodb:PutItem": ["registry-table"],
    "dynamodb:UpdateItem": ["registry-table"],
  },
};

const roles: Record<string, string> = {
  ...Object.fromEntries(Object.entries(stack.functions).map(([fn, f]) => [fn, stack.getLogicalId(f.role.node.defaultChild as never)])),
  seed: stack.getLogicalId(stack.seeder.handler.role.node.defaultChild as never),
};

describe("IAM least privilege: each function's role allows exactly what its code sends", () => {
  it("synthesizes with cdk-nag clean, and has a list for every function the stack has", () => {
    expect(violations).toEqual([]);
    expect(Object.keys(roles).sort()).toEqual(Object.keys(ALLOWED).sort());
  });

  it.each(Object.keys(ALLOWED))("%s", (fn) => {
    const allowed = ALLOWED[fn] ?? {};
    const actual = granted(roles[fn] ?? "");
    // Actions first, so a failure names the extra or missing action before its resources.
    const beyond = Object.keys(actual).filter((a) => !(a in allowed));
    const missing = Object.keys(allowed).filter((a) => !(a in actual));
    expect({ fn, beyond, missing }).toEqual({ fn, beyond: [], missing: [] });
    expect(actual).toEqual(Object.fromEntries(Object.entries(allowed).map(([a, r]) => [a, [...r].sort()])));
  });

  it("names the key prefixes the adapters write", () => {
    expect(limitPk("acme").startsWith(LIMIT_PK_PREFIX)).toBe(true);
    expect(recordPk("acme", "2026-12-01", 3).startsWith(RECORD_PK_PREFIX)).toBe(true);
    expect(versionArtifactKey("iris", 3, "model.onnx").startsWith(MODEL_ARTIFACT_PREFIX)).toBe(true);
    expect(artifactKey("iris", 3).startsWith(MODEL_ARTIFACT_PREFIX)).toBe(true);
    expect(DATA_CAPTURE_PREFIX).toBe("data-capture/");
    expect(invoiceKey("acme", "2026-11", "json").startsWith(INVOICE_PREFIX)).toBe(true);
    expect(invoiceKey("acme", "2026-11", "html").startsWith(tenantInvoicePrefix("acme"))).toBe(true);
    // A tenant's listing ends with a delimiter: acme's never reaches acme-corp's.
    expect(invoiceKey("acme-corp", "2026-11", "json").startsWith(tenantInvoicePrefix("acme"))).toBe(false);
  });
});
