import { beforeEach, describe, expect, it } from "@jest/globals";
import type { APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { principalFromContext } from "../../functions/core/principal";
import { disableTenant } from "../../functions/core/tenants";
import { authorizerEvent } from "../../infra/local/gateway/events";
import { seedModels, type TestApp, testApp } from "./app";
import { incoming } from "./request";

let app: TestApp;

const eventWith = (headers: Record<string, string>): APIGatewayRequestAuthorizerEvent =>
  authorizerEvent(incoming("POST", "/v2/models/iris/infer", { headers }));

beforeEach(() => {
  app = testApp();
});

describe("the REQUEST authorizer", () => {
  it("allows a live key for the whole API and puts the tenant, scopes, grants and limits in the context", async () => {
    const key = await app.tenantWithKey(
      "acme",
      { models: ["iris"], limits: { ratePerSecond: 5 } },
      { scopes: ["invoke"], limits: { monthlyRequests: 9 } },
    );
    const result = await app.authorizer(eventWith({ authorization: `Bearer ${key.apiKey}` }));
    expect(result.principalId).toBe(`acme/${key.keyId}`);
    expect(result.policyDocument.Statement).toEqual([
      { Action: "execute-api:Invoke", Effect: "Allow", Resource: "arn:aws:execute-api:us-east-1:000000000000:local/v1/*/*" },
    ]);
    expect(principalFromContext(result.context)).toEqual({
      tenantId: "acme",
      keyId: key.keyId,
      scopes: ["invoke"],
      models: ["iris"],
      plan: "default",
      limits: { ratePerSecond: 5 },
      keyLimits: { monthlyRequests: 9 },
    });
    expect(Object.values(result.context ?? {}).every((v) => typeof v === "string")).toBe(true);
  });

  it("accepts the key in x-api-key too, and records its use", async () => {
    const key = await app.tenantWithKey("acme");
    await app.authorizer(eventWith({ "x-api-key": key.apiKey }));
    expect(app.identity.keys.get(key.keyId)?.lastUsedAt).toEqual(expect.any(String));
  });

  it("refuses with the literal 'Unauthorized' (API Gateway's 401) for every kind of bad key", async () => {
    const key = await app.tenantWithKey("acme");
    const other = await app.tenantWithKey("globex");
    const typo = `${key.apiKey.slice(0, -1)}${key.apiKey.endsWith("A") ? "B" : "A"}`;
    const refused: Record<string, string>[] = [
      {},
      { authorization: "Basic abc" },
      { authorization: `Bearer ${typo}` },
      { "x-api-key": "mg_live_short" },
    ];
    for (const headers of refused) await expect(app.authorizer(eventWith(headers))).rejects.toThrow(/^Unauthorized$/);

    await app.identity.revokeKey("acme", key.keyId);
    await expect(app.authorizer(eventWith({ authorization: `Bearer ${key.apiKey}` }))).rejects.toThrow(/^Unauthorized$/);

    await disableTenant(app.identity, "globex");
    await expect(app.authorizer(eventWith({ authorization: `Bearer ${other.apiKey}` }))).rejects.toThrow(/^Unauthorized$/);
  });

  it("refuses an expired key", async () => {
    const key = await app.tenantWithKey("acme", {}, { expiresAt: new Date(Date.now() + 60_000).toISOString() });
    const stored = app.identity.keys.get(key.keyId);
    if (!stored) throw new Error("key not stored");
    app.identity.keys.set(key.keyId, { ...stored, expiresAt: new Date(Date.now() - 1000).toISOString() });
    await expect(app.authorizer(eventWith({ authorization: `Bearer ${key.apiKey}` }))).rejects.toThrow(/^Unauthorized$/);
  });

  it("fails with the store's own error (API Gateway's 500), never 'Unauthorized', when the store is down", async () => {
    const key = await app.tenantWithKey("acme");
    app.identity.getKey = async () => Promise.reject(new Error("ProvisionedThroughputExceeded"));
    await expect(app.authorizer(eventWith({ authorization: `Bearer ${key.apiKey}` }))).rejects.toThrow("ProvisionedThroughputExceeded");
  });

  it("gives the handlers the caller that the key belongs to (key → authorizer → invoke, end to end)", async () => {
    seedModels(app);
    const key = await app.tenantWithKey("acme", { models: ["iris"] });
    const res = await app.request("GET", "/v1/models", { apiKey: key.apiKey });
    expect(res.status).toBe(200);
    expect(res.json().data.map((m: { id: string }) => m.id)).toEqual(["iris"]);
  });
});
