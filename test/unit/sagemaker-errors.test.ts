import { ModelError, ModelNotReadyException, ServiceUnavailable, ValidationError } from "@aws-sdk/client-sagemaker-runtime";
import { describe, expect, it } from "@jest/globals";
import { mapSageMakerError, SageMakerInvoker } from "../../functions/aws/sagemaker-invoker";

const meta = { $metadata: {} };

describe("SageMaker Runtime errors → API statuses", () => {
  it.each([
    ["ValidationError", new ValidationError({ message: "bad", ...meta }), 400],
    ["ModelError with the model's 400", new ModelError({ message: "m", OriginalStatusCode: 400, OriginalMessage: "shape", ...meta }), 400],
    ["ModelError with the model's 422", new ModelError({ message: "m", OriginalStatusCode: 422, ...meta }), 422],
    ["ModelError with a 5xx", new ModelError({ message: "m", OriginalStatusCode: 500, ...meta }), 502],
    ["ModelNotReady", new ModelNotReadyException({ message: "m", ...meta }), 503],
    ["ServiceUnavailable", new ServiceUnavailable({ message: "m", ...meta }), 503],
    ["throttling", Object.assign(new Error("slow down"), { name: "ThrottlingException" }), 503],
    ["connection refused", Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }), 503],
  ])("%s → %i", (_, err, status) => {
    const mapped = mapSageMakerError(err);
    expect(mapped.status).toBe(status);
    if (status === 503) expect(mapped.retryAfterSeconds).toBeGreaterThanOrEqual(1);
  });

  it("our own deadline → 504", async () => {
    const hanging = {
      send: (_: unknown, opts: { abortSignal: AbortSignal }) =>
        new Promise((_r, reject) => opts.abortSignal.addEventListener("abort", () => reject(new Error("aborted")))),
    };
    const invoker = new SageMakerInvoker(hanging as never);
    const err = await invoker
      .invoke({ endpointName: "e", variantName: "v1", body: new Uint8Array(), contentType: "application/json", timeoutMs: 20 })
      .catch((e) => e);
    expect(err.status).toBe(504);
  });
});
