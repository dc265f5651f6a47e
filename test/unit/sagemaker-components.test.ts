import {
  InvokeEndpointCommand,
  InvokeEndpointWithResponseStreamCommand,
  SageMakerRuntimeClient,
  ValidationError,
} from "@aws-sdk/client-sagemaker-runtime";
import { beforeEach, describe, expect, it } from "@jest/globals";
import { mockClient } from "aws-sdk-client-mock";
import { SageMakerInvoker, WAKING_RETRY_AFTER_SECONDS } from "../../functions/aws/sagemaker-invoker";
import { ModelWakingError } from "../../functions/core/errors";
import type { InvokeRequest } from "../../functions/core/ports";

/**
 * Versions placed as inference components: the invoker names the component (never a variant),
 * and SageMaker's answer for a component with no copy becomes "waking". That answer is the
 * cloud's alone (the local emulator gives the same shape; this pins the SDK's side of it).
 */

const sagemaker = mockClient(SageMakerRuntimeClient);
const invoker = new SageMakerInvoker(new SageMakerRuntimeClient({ region: "eu-west-1" }), () => undefined);
const body = new TextEncoder().encode("{}");
const onVariant: InvokeRequest = { endpointName: "mg-iris", variantName: "v1", body, contentType: "application/json", timeoutMs: 1000 };
const onPool: InvokeRequest = { ...onVariant, endpointName: "mg-pool-shared", inferenceComponentName: "mg-iris-1" };

/** SageMaker's words for InvokeEndpoint on a component at zero copies (AWS ML blog, 2024-12). */
const noCapacity = () =>
  new ValidationError({
    message:
      "Inference Component has no capacity to process this request. ApplicationAutoScaling may be in-progress (if configured) or try to increase the capacity by invoking UpdateInferenceComponentRuntimeConfig API.",
    $metadata: { httpStatusCode: 400 },
  });

beforeEach(() => {
  sagemaker.reset();
});

describe("SageMakerInvoker and inference components", () => {
  it("sends InferenceComponentName and no TargetVariant for a component, TargetVariant otherwise", async () => {
    sagemaker.on(InvokeEndpointCommand).resolves({ Body: body as never, ContentType: "application/json" });
    await invoker.invoke(onPool);
    await invoker.invoke(onVariant);
    const [pool, variant] = sagemaker.commandCalls(InvokeEndpointCommand).map((c) => c.args[0].input);
    expect(pool).toMatchObject({ EndpointName: "mg-pool-shared", InferenceComponentName: "mg-iris-1" });
    expect(pool).not.toHaveProperty("TargetVariant");
    expect(variant).toMatchObject({ EndpointName: "mg-iris", TargetVariant: "v1" });
    expect(variant).not.toHaveProperty("InferenceComponentName");
  });

  it("names the OpenAI route called in CustomAttributes, and sends none for a call without one", async () => {
    sagemaker.on(InvokeEndpointCommand).resolves({ Body: body as never, ContentType: "application/json" });
    await invoker.invoke({ ...onPool, route: "/v1/embeddings" });
    await invoker.invoke(onVariant);
    const [routed, plain] = sagemaker.commandCalls(InvokeEndpointCommand).map((c) => c.args[0].input);
    expect(routed).toMatchObject({ CustomAttributes: "openai-route=/v1/embeddings" });
    expect(plain).not.toHaveProperty("CustomAttributes");
  });

  it("names the component on the streamed call too", async () => {
    sagemaker.on(InvokeEndpointWithResponseStreamCommand).resolves({
      Body: (async function* () {
        yield { PayloadPart: { Bytes: body } };
      })(),
    });
    const parts: Uint8Array[] = [];
    for await (const part of await invoker.invokeStream(onPool)) parts.push(part);
    expect(parts).toHaveLength(1);
    const [input] = sagemaker.commandCalls(InvokeEndpointWithResponseStreamCommand).map((c) => c.args[0].input);
    expect(input).toMatchObject({ EndpointName: "mg-pool-shared", InferenceComponentName: "mg-iris-1" });
    expect(input).not.toHaveProperty("TargetVariant");
  });

  it("maps 'no capacity' to a waking 503 with Retry-After, on both calls", async () => {
    sagemaker.on(InvokeEndpointCommand).rejects(noCapacity());
    sagemaker.on(InvokeEndpointWithResponseStreamCommand).rejects(noCapacity());
    for (const call of [() => invoker.invoke(onPool), () => invoker.invokeStream(onPool)]) {
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModelWakingError);
      expect(err).toMatchObject({ status: 503, type: "model_waking", retryAfterSeconds: WAKING_RETRY_AFTER_SECONDS });
      expect((err as Error).message).toMatch(/scaling up from zero/);
    }
  });

  it("takes a host's own Retry-After for waking", async () => {
    sagemaker.on(InvokeEndpointCommand).rejects(noCapacity());
    const quick = new SageMakerInvoker(new SageMakerRuntimeClient({ region: "eu-west-1" }), () => undefined, {
      wakingRetryAfterSeconds: 2,
    });
    const err = await quick.invoke(onPool).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 503, retryAfterSeconds: 2, message: expect.stringMatching(/retry in 2 seconds/) });
  });

  it("keeps any other ValidationError a 400", async () => {
    sagemaker.on(InvokeEndpointCommand).rejects(new ValidationError({ message: "Inference Component mg-x not found", $metadata: {} }));
    const err = await invoker.invoke(onPool).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(ModelWakingError);
    expect(err).toMatchObject({ status: 400 });
  });
});
