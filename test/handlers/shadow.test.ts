import { beforeEach, describe, expect, it } from "@jest/globals";
import { ModelFailedError } from "../../functions/core/errors";
import type { ShadowRequest } from "../../functions/core/shadow";
import { alias, IRIS_INPUT, principal, type TestApp, testApp, version } from "./app";

let app: TestApp;

const copy = (over: Partial<ShadowRequest> = {}): ShadowRequest => ({
  requestId: "r1",
  receivedAt: Date.parse("2026-11-20T10:00:00Z"),
  tenantId: "acme",
  keyId: "AcmeKey000000001",
  model: "iris",
  alias: "prod",
  version: 2,
  endpointName: "mg-iris",
  variantName: "v2",
  body: Buffer.from(JSON.stringify(IRIS_INPUT)).toString("base64"),
  contentType: "application/json",
  ...over,
});

beforeEach(() => {
  app = testApp();
});

describe("the shadow function", () => {
  it("calls the shadow variant and records a shadow usage record under a derived request id", async () => {
    await app.shadowHandler(copy());
    expect(app.model.calls.map((c) => c.variantName)).toEqual(["v2"]);
    expect(app.usage.stored.get("r1:shadow")).toMatchObject({ kind: "shadow", status: 200, tenantId: "acme", version: 2, alias: "prod" });
    expect(app.usage.stored.has("r1")).toBe(false);
  });

  it("records a failing shadow with its status; the client was answered already", async () => {
    app.model.failing.set("v2", new ModelFailedError("boom"));
    await app.shadowHandler(copy());
    expect(app.usage.stored.get("r1:shadow")).toMatchObject({ kind: "shadow", status: 502 });
  });

  it("is idempotent by request id, so Lambda's redelivery never counts twice", async () => {
    await app.shadowHandler(copy());
    await app.shadowHandler(copy());
    expect([...app.usage.stored.keys()]).toEqual(["r1:shadow"]);
  });

  it("throws when the record cannot be written, so Lambda's async retries try again", async () => {
    app.usage.failWith = new Error("throttled");
    await expect(app.shadowHandler(copy())).rejects.toThrow("throttled");
  });

  it("drops a malformed event without calling the model", async () => {
    for (const event of [null, "x", { ...copy(), version: "2" }, { ...copy(), extra: 1 }]) await app.shadowHandler(event);
    expect(app.model.calls).toEqual([]);
    expect(app.usage.stored.size).toBe(0);
  });

  it("runs what the invoke function hands off: the live answer and the shadow are metered apart", async () => {
    app.registry.addModel(
      { model: "iris" },
      [version("iris", 1), version("iris", 2)],
      [alias("iris", "prod", { targets: [{ version: 1, weight: 100 }], shadow: { version: 2, percent: 100 } })],
    );
    await app.request("POST", "/v2/models/iris/infer", { as: principal(), json: IRIS_INPUT, requestId: "live" });
    const [handedOff] = app.shadow.dispatched;
    // Through JSON, as Lambda's asynchronous invocation carries it.
    await app.shadowHandler(JSON.parse(JSON.stringify(handedOff)));
    expect(app.usage.stored.get("live")).toMatchObject({ version: 1, status: 200 });
    expect(app.usage.stored.get("live:shadow")).toMatchObject({ version: 2, kind: "shadow", status: 200 });
  });
});
