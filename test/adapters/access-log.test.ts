import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "@jest/globals";
import { ACCESS_SK, accessPk } from "../../functions/aws/access-items";
import { DynamoAccessJournal } from "../../functions/aws/access-journal";
import { DynamoAccessLog } from "../../functions/aws/access-log";
import { recordPk } from "../../functions/aws/usage-items";
import { DynamoUsageReader } from "../../functions/aws/usage-reader";
import { DynamoUsageSink } from "../../functions/aws/usage-sink";
import type { AccessRecord } from "../../functions/core/access";
import { ServiceUnavailableError } from "../../functions/core/errors";
import { InferenceFailedError, runInference } from "../../functions/core/inference";
import type { ModelInvoker, RegistryReader } from "../../functions/core/ports";
import type { ModelRecord } from "../../functions/core/registry";
import { usageTable } from "../../infra/shared/tables";
import { e2ePlatform } from "../e2e/helpers";
import { e2eTable, localDocumentClient } from "./dynamo";

const doc = localDocumentClient();
const table = e2eTable(usageTable);

function access(tenantId: string, time: string, requestId = randomUUID()): AccessRecord {
  return { requestId, time, tenantId, keyId: "k1", model: "iris", version: 1, bytesIn: 10 };
}

const exists = async (pk: string, sk: string) => (await doc.send(new GetCommand({ TableName: table, Key: { pk, sk } }))).Item !== undefined;

describe("access records (DynamoDB Local)", () => {
  it("group-commits concurrent records and reads back exactly the range, across day partitions and shards", async () => {
    const journal = new DynamoAccessJournal(doc, table, { retentionDays: 30 });
    const tenant = `acc-${randomUUID().slice(0, 8)}`;
    // A far-away range no other suite writes to: two days, 120 records, one just outside each end.
    const inside = Array.from({ length: 120 }, (_, i) =>
      access(tenant, new Date(Date.parse("2031-03-01T23:00:00Z") + i * 60_000).toISOString()),
    );
    const outside = [access(tenant, "2031-03-01T22:59:59.999Z"), access(tenant, "2031-03-02T01:00:00.001Z")];
    await Promise.all([...inside, ...outside].map((a) => journal.record(a)));

    const log = new DynamoAccessLog(doc, table);
    const read: AccessRecord[] = [];
    for await (const page of log.accessRecords("2031-03-01T23:00:00.000Z", "2031-03-02T01:00:00.000Z")) read.push(...page);
    expect(read.map((r) => r.requestId).sort()).toEqual(inside.map((r) => r.requestId).sort());
    expect(read.find((r) => r.requestId === inside[0]?.requestId)).toEqual(inside[0]);

    // Which have usage records: only those the sink wrote.
    const sink = new DynamoUsageSink(doc, table, { retentionDays: 30 });
    const withUsage = inside.slice(0, 7);
    for (const a of withUsage) {
      await sink.record({
        requestId: a.requestId,
        time: a.time,
        tenantId: tenant,
        keyId: "k1",
        model: "iris",
        version: 1,
        status: 200,
        latencyMs: 1,
        bytesIn: 10,
        bytesOut: 1,
      });
    }
    const found = await log.usageRecorded(inside.map((r) => r.requestId));
    expect([...found].sort()).toEqual(withUsage.map((r) => r.requestId).sort());

    await journal.discard(inside[0] as AccessRecord);
    expect(await exists(accessPk(inside[0]?.requestId ?? ""), ACCESS_SK)).toBe(false);
  });

  it("usage write throttled → the request fails closed (503): no usage record, no aggregate, no access record", async () => {
    // The same DynamoDB Local, through a client whose PutItem calls (usage commits) are throttled.
    const client = new DynamoDBClient({
      endpoint: e2ePlatform().dynamodb,
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
      maxAttempts: 1,
    });
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "PutItemCommand") {
          throw Object.assign(new Error("Rate of requests exceeds the allowed throughput."), {
            name: "ThrottlingException",
            $fault: "client",
          });
        }
        return next(args);
      },
      { step: "initialize", name: "injectThrottling" },
    );
    const throttled = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    const tenant = `thr-${randomUUID().slice(0, 8)}`;
    const version = {
      model: "iris",
      version: 1,
      runtime: "onnx" as const,
      status: "ready" as const,
      endpointName: "e",
      variantName: "v1",
      artifactUri: "s3://b/k",
      createdAt: "",
    };
    const model: ModelRecord = { model: "iris", defaultAlias: "prod", versions: new Map([[1, version]]), aliases: new Map() };
    const registry: RegistryReader = { getModel: async () => model, listModels: async () => ["iris"] };
    let modelCalls = 0;
    const invoker: ModelInvoker = {
      invoke: async () => {
        modelCalls++;
        return { body: new TextEncoder().encode("{}"), contentType: "application/json" };
      },
    };
    const requestId = randomUUID();
    const err = await runInference(
      {
        registry,
        invoker,
        usage: new DynamoUsageSink(throttled, table, { retentionDays: 30, maxAttempts: 2 }),
        access: new DynamoAccessJournal(throttled, table, { retentionDays: 30 }),
        invokeTimeoutMs: 1000,
      },
      {
        requestId,
        receivedAt: Date.now(),
        principal: { tenantId: tenant, keyId: "k1", scopes: ["invoke"], models: ["iris"], plan: "default" },
        model: "iris",
        selector: { kind: "version", version: 1 },
        routingKey: "k1",
        protocol: "raw",
        body: new TextEncoder().encode("{}"),
        contentType: "application/json",
      },
    ).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(InferenceFailedError);
    expect((err as InferenceFailedError).error).toBeInstanceOf(ServiceUnavailableError);
    expect(modelCalls).toBe(1);
    expect(await exists(recordPk(requestId), "REQ")).toBe(false);
    expect(await exists(accessPk(requestId), ACCESS_SK)).toBe(false);
    const today = new Date().toISOString().slice(0, 10);
    expect(await new DynamoUsageReader(doc, table).aggregates(tenant, "day", today, today)).toEqual([]);
  });
});
