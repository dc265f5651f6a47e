import { describe, expect, it } from "@jest/globals";
import { ONNX, sha, synthTwoModels, TARBALL } from "./two-models";

// One synthesis (cdk-nag on; bundling skipped: only the template is read) shared by every assertion below.
const { template, tableId } = synthTwoModels({ bundling: false });

describe("RegistrySeeder (two models, three versions)", () => {
  it("writes versions with endpoint, variant, artifact URI and sha256, and the initial aliases", () => {
    const seeds = template.findResources("Custom::RegistrySeed");
    const props = JSON.stringify(Object.values(seeds)[0]);
    expect(props).toContain(sha(ONNX));
    expect(props).toContain(sha(TARBALL));
    for (const s of [
      '\\"endpointName\\":\\"mgtest-iris\\"',
      '\\"variantName\\":\\"v2\\"',
      "s3://external-models/llm/1/",
      "/models/iris/1/iris/1/model.onnx",
    ]) {
      expect(props).toContain(s);
    }
    template.hasResourceProperties("Custom::RegistrySeed", { TableName: { Ref: tableId("mgtest-registry") } });
  });
});
