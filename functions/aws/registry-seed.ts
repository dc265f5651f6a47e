import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { RegistrySeed, VersionSeed } from "../contract/seed";
import { priceFromJson } from "../core/money/prices";
import { whenConditionFails } from "./conditions";
import { aliasSk, CATALOG_PK, historyPk, historySk, modelPk, POOLS_KEY, priceItem, versionSk } from "./registry-items";

/**
 * Writes what the config declares into the registry, at deploy (custom resource) and at local
 * start. Models and versions are upserted (versions are immutable, so rewriting one with the
 * same data changes nothing; `createdAt` and `status` survive), except where a version is
 * served (endpoint, variant, inference component, instance type), which follows the config. Aliases are written only when
 * absent: an alias an operator has moved since is never put back.
 */
export async function seedRegistry(doc: DynamoDBDocumentClient, tableName: string, seed: RegistrySeed, now = new Date()): Promise<void> {
  const at = now.toISOString();
  for (const m of seed.models) {
    await doc.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          pk: modelPk(m.model),
          sk: "MODEL",
          type: "model",
          model: m.model,
          defaultAlias: m.defaultAlias,
          description: m.description,
          maxTokensPerRequest: m.maxTokensPerRequest,
          embedding: m.embedding,
        },
      }),
    );
    await doc.send(
      new PutCommand({ TableName: tableName, Item: { pk: CATALOG_PK, sk: `MODEL#${m.model}`, type: "catalog", model: m.model } }),
    );
  }
  for (const v of seed.versions) {
    const created = await putIfAbsent(doc, tableName, {
      pk: modelPk(v.model),
      sk: versionSk(v.version),
      type: "version",
      ...v,
      status: "ready",
      createdAt: at,
    });
    if (!created) {
      // Where a version is served follows the config: a deploy that moves it between the
      // variant layout and a pool (or between pools) must move the registry with it, or the
      // invoke path would call an endpoint the deploy just removed.
      await placeServing(doc, tableName, v);
      // A version uploaded at run time, then added to the config and deployed: now it is served.
      await activateRegistered(doc, tableName, v.model, v.version, at);
    }
  }
  for (const a of seed.aliases) {
    const created = await putIfAbsent(doc, tableName, {
      pk: modelPk(a.model),
      sk: aliasSk(a.alias),
      type: "alias",
      model: a.model,
      alias: a.alias,
      targets: a.targets,
      revision: 1,
      updatedAt: at,
      updatedBy: "seed",
    });
    if (created) {
      await putIfAbsent(doc, tableName, {
        pk: historyPk(a.model),
        sk: historySk(a.alias, 1),
        type: "aliasHistory",
        model: a.model,
        alias: a.alias,
        revision: 1,
        from: null,
        to: { targets: a.targets },
        at,
        by: "seed",
      });
    }
  }
  // Initial prices start at the epoch: any price an operator sets later starts after them.
  for (const json of seed.prices ?? []) {
    const price = priceFromJson({ ...json, effectiveFrom: INITIAL_PRICE_FROM });
    await putIfAbsent(doc, tableName, priceItem(price));
  }
  // The pools follow the config, like where a version is served: replaced whole (showback reads them).
  if (seed.pools) {
    await doc.send(
      new PutCommand({ TableName: tableName, Item: { ...POOLS_KEY, type: "pools", poolsJson: JSON.stringify(seed.pools), updatedAt: at } }),
    );
  }
}

/** When a price from the config takes effect: before anything was received. */
export const INITIAL_PRICE_FROM = "1970-01-01T00:00:00.000Z";

async function putIfAbsent(doc: DynamoDBDocumentClient, tableName: string, item: Record<string, unknown>): Promise<boolean> {
  const put = doc.send(new PutCommand({ TableName: tableName, Item: item, ConditionExpression: "attribute_not_exists(pk)" }));
  return whenConditionFails(
    put.then(() => true),
    () => false,
  );
}

/** Points an existing version at where the config now serves it; the rest of the item is immutable. */
async function placeServing(doc: DynamoDBDocumentClient, tableName: string, v: VersionSeed): Promise<void> {
  const component = v.inferenceComponentName;
  await doc.send(
    new UpdateCommand({
      TableName: tableName,
      Key: { pk: modelPk(v.model), sk: versionSk(v.version) },
      UpdateExpression: `SET endpointName = :endpoint, variantName = :variant, instanceType = :instanceType${
        component === undefined ? " REMOVE inferenceComponentName" : ", inferenceComponentName = :component"
      }`,
      ExpressionAttributeValues: {
        ":endpoint": v.endpointName,
        ":variant": v.variantName,
        ":instanceType": v.instanceType,
        ...(component === undefined ? {} : { ":component": component }),
      },
    }),
  );
}

/** registered → ready; a retired or already-ready version is left alone. */
async function activateRegistered(doc: DynamoDBDocumentClient, tableName: string, model: string, version: number, at: string) {
  await whenConditionFails(
    doc.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { pk: modelPk(model), sk: versionSk(version) },
        UpdateExpression: "SET #status = :ready, updatedAt = :at",
        ConditionExpression: "#status = :registered",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: { ":ready": "ready", ":registered": "registered", ":at": at },
      }),
    ),
    () => undefined,
  );
}
