import { describe, expect, it } from "@jest/globals";
import { Match } from "aws-cdk-lib/assertions";
import { POOL_COST_TAG } from "../../functions/contract/sagemaker-names";
import { artifactDir, permissionsOfRole, synthPlatform } from "./fixtures";

/**
 * Showback's deploy side: each pool endpoint carries the cost-allocation tag Cost Explorer
 * filters by, only the admin function (which serves GET /admin/showback) may call
 * ce:GetCostAndUsage, and the registry seed carries the pools with their list prices.
 */
const dir = artifactDir({ "iris/1/model.onnx": "iris v1", "iris/2/model.onnx": "iris v2" });
const config = {
  name: "mgshow",
  pools: { gpu: { instanceType: "ml.g5.xlarge", instances: { min: 1, max: 2 } } },
  models: {
    iris: {
      versions: [
        { version: 1, artifact: "iris/1/model.onnx", instanceType: "ml.c5.xlarge" },
        {
          version: 2,
          artifact: "iris/2/model.onnx",
          placement: { pool: "gpu", accelerators: 1, cpus: 2, memoryMiB: 4096, copies: { min: 1, max: 1 } },
        },
      ],
      aliases: { prod: 1 },
    },
  },
};
const { stack, template, violations } = synthPlatform({ config, baseDir: dir, bundling: false });

const roleOf = (fn: string) => {
  const f = stack.functions[fn as keyof typeof stack.functions];
  return stack.getLogicalId(f.role.node.defaultChild as never);
};
const ceActions = (roleLogicalId: string) =>
  permissionsOfRole(template, roleLogicalId)
    .permissions.filter((p) => p.action.startsWith("ce:"))
    .map((p) => ({ action: p.action, resource: p.resource }));

describe("showback in the stack", () => {
  it("is cdk-nag clean (the Cost Explorer wildcard is acknowledged with its reason)", () => {
    expect(violations).toEqual([]);
  });

  it("tags the pool endpoint with the cost-allocation tag, valued by its endpoint name", () => {
    template.hasResourceProperties("AWS::SageMaker::Endpoint", {
      EndpointName: "mgshow-pool-gpu",
      Tags: Match.arrayWith([{ Key: POOL_COST_TAG, Value: "mgshow-pool-gpu" }]),
    });
    expect(POOL_COST_TAG).toBe("modelgate:pool");
  });

  it("leaves the tag off an endpoint that is no pool", () => {
    const endpoints = template.findResources("AWS::SageMaker::Endpoint", { Properties: { EndpointName: "mgshow-iris" } });
    const [variantEndpoint] = Object.values(endpoints);
    expect(variantEndpoint).toBeDefined();
    expect(JSON.stringify(variantEndpoint)).not.toContain(POOL_COST_TAG);
  });

  it("grants ce:GetCostAndUsage to the admin function, on *, and to no other function", () => {
    expect(ceActions(roleOf("admin"))).toEqual([{ action: "ce:GetCostAndUsage", resource: "*" }]);
    for (const fn of Object.keys(stack.functions).filter((f) => f !== "admin")) {
      expect({ fn, ce: ceActions(roleOf(fn)) }).toEqual({ fn, ce: [] });
    }
    expect(ceActions(stack.getLogicalId(stack.seeder.handler.role.node.defaultChild as never))).toEqual([]);
  });

  it("seeds the pools with the instance's size, list prices and each component's reservation", () => {
    const seed = JSON.stringify(Object.values(template.findResources("Custom::RegistrySeed"))[0]);
    for (const s of [
      '\\"pools\\":[{\\"pool\\":\\"gpu\\"',
      '\\"endpointName\\":\\"mgshow-pool-gpu\\"',
      '\\"instance\\":{\\"accelerators\\":1,\\"vcpus\\":4}',
      '\\"us-east-1\\":\\"1.408\\"',
      '\\"componentName\\":\\"mgshow-iris-v2\\",\\"accelerators\\":1,\\"cpus\\":2',
    ]) {
      expect(seed).toContain(s);
    }
  });
});
