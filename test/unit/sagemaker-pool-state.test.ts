import { DescribeEndpointCommand, DescribeInferenceComponentCommand } from "@aws-sdk/client-sagemaker";
import { describe, expect, it } from "@jest/globals";
import { SageMakerPoolState } from "../../functions/aws/sagemaker-pool-state";
import type { PoolSeed } from "../../functions/contract/seed";

const pool: PoolSeed = {
  pool: "cpu",
  endpointName: "mg-pool-cpu",
  instanceType: "ml.c5.xlarge",
  instance: { accelerators: 0, vcpus: 4 },
  initialInstances: 1,
  listPricePerHour: {},
  priceCurrency: "USD",
  components: [
    { model: "iris", version: 2, componentName: "mg-iris-v2", accelerators: 0, cpus: 2 },
    { model: "chat", version: 1, componentName: "mg-chat-v1", accelerators: 1, cpus: 4 },
  ],
};

/**
 * SageMaker's control plane has no local stand-in: the adapter is checked against a client double
 * answering the Describe calls as SageMaker does, including a component still being created.
 */
describe("SageMakerPoolState", () => {
  it("reads the endpoint's instances and each component's current copies; a failed read is left out", async () => {
    const sent: string[] = [];
    const client = {
      send: async (command: unknown) => {
        if (command instanceof DescribeEndpointCommand) {
          sent.push(`endpoint ${command.input.EndpointName}`);
          return { ProductionVariants: [{ VariantName: "AllTraffic", CurrentInstanceCount: 2 }] };
        }
        if (command instanceof DescribeInferenceComponentCommand) {
          sent.push(`component ${command.input.InferenceComponentName}`);
          if (command.input.InferenceComponentName === "mg-chat-v1")
            throw Object.assign(new Error("not found"), { name: "ValidationException" });
          return { RuntimeConfig: { DesiredCopyCount: 1, CurrentCopyCount: 1 } };
        }
        throw new Error("unexpected command");
      },
    };
    expect(await new SageMakerPoolState(client as never).live(pool)).toEqual({ instances: 2, copies: { "mg-iris-v2": 1 } });
    expect(sent.sort()).toEqual(["component mg-chat-v1", "component mg-iris-v2", "endpoint mg-pool-cpu"]);
  });

  it("tells no instances when the endpoint cannot be described", async () => {
    const client = { send: async () => Promise.reject(new Error("throttled")) };
    expect(await new SageMakerPoolState(client as never).live(pool)).toEqual({ copies: {} });
  });
});
