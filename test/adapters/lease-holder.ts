/**
 * A process that admits requests against a monthly quota from DynamoDB Local through leased
 * blocks, for test/adapters/quota-leases.test.ts: it reports what it admitted over IPC, then
 * either gives its leases back and exits or stays holding them until it is killed.
 */
import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { DynamoLimitStore } from "../../functions/aws/limit-store";

const env = (name: string): string => {
  const v = process.env[name];
  if (v === undefined) throw new Error(`${name} is not set`);
  return v;
};

const client = new DynamoDBClient({
  endpoint: env("MG_DYNAMODB"),
  region: "us-east-1",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
});
const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
const store = new DynamoLimitStore(doc, env("MG_TABLE"), {
  leaseMs: Number(env("MG_SETTLE_MS")),
  quotaLeases: { leaseMs: Number(env("MG_LEASE_MS")), idleMs: 0 },
});
const limits = { monthlyRequests: Number(env("MG_QUOTA")) };
const now = Number(env("MG_NOW"));

const results = await Promise.all(
  Array.from({ length: Number(env("MG_COUNT")) }, async () => {
    const requestId = randomUUID();
    const r = await store.charge(env("MG_SUBJECT"), limits, { now, requestId });
    return r.admitted ? { requestId, lease: r.handle.quotaLease } : undefined;
  }),
);
const admitted = results.filter((r) => r !== undefined);
if (process.env.MG_HOLD === "1") {
  process.send?.({ admitted });
  // Holds its lease until killed.
  setInterval(() => undefined, 60_000);
} else {
  await store.returnLeases();
  process.send?.({ admitted }, () => process.exit(0));
}
