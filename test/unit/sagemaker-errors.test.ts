import { ModelError, ModelNotReadyException, ServiceUnavailable, ValidationError } from "@aws-sdk/client-sagemaker-runtime";
import { describe, expect, it } from "@jest/globals";
import { type ModelCallFailure, mapSageMakerError, SageMakerInvoker } from "../../functions/aws/sagemaker-invoker";

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

  it("tells the client a generic message and logs what SageMaker or the container said", async () => {
    const secret = "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/mg-iris variants [v1, v2] /opt/ml/model stack";
    const failures = [
      new ValidationError({ message: secret, ...meta }),
      new ModelError({ message: secret, OriginalStatusCode: 400, OriginalMessage: secret, ...meta }),
      new ModelError({ message: secret, OriginalStatusCode: 404, OriginalMessage: secret, ...meta }),
      new ModelError({ message: secret, OriginalStatusCode: 500, OriginalMessage: secret, ...meta }),
    ];
    for (const failure of failures) {
      const logged: ModelCallFailure[] = [];
      const failing = { send: async () => Promise.reject(failure) };
      const invoker = new SageMakerInvoker(failing as never, (f) => logged.push(f));
      const err = await invoker
        .invoke({ endpointName: "mg-iris", variantName: "v1", body: new Uint8Array(), contentType: "application/json", timeoutMs: 1000 })
        .catch((e) => e);
      expect(err.message).not.toMatch(/123456789012|variants|opt\/ml/);
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatchObject({ endpointName: "mg-iris", variantName: "v1", message: secret });
    }
  });

  it("our own deadline → 504", async () => {
    const hanging = {
      send: (command: { input: object }) =>
        new Promise((_r, reject) => signalOf(command.input)?.addEventListener("abort", () => reject(new Error("aborted")))),
    };
    const invoker = new SageMakerInvoker(hanging as never);
    const err = await invoker
      .invoke({ endpointName: "e", variantName: "v1", body: new Uint8Array(), contentType: "application/json", timeoutMs: 20 })
      .catch((e) => e);
    expect(err.status).toBe(504);
  });
});

/** The signal a call's input carries (./call-signal.ts keeps it under a symbol). */
function signalOf(input: object): AbortSignal | undefined {
  const key = Object.getOwnPropertySymbols(input)[0];
  return key ? ((input as Record<symbol, unknown>)[key] as AbortSignal) : undefined;
}
