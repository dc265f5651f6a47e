import { describe, expect, it } from "@jest/globals";
import {
  endpointName,
  inferenceComponentName,
  POOL_VARIANT_NAME,
  poolEndpointName,
  sagemakerName,
  variantName,
} from "../../functions/contract/sagemaker-names";

/** SageMaker's rule for endpoint, variant and inference component names. */
const SAGEMAKER_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

// The longest names the config accepts: a 24-character platform, 48-character models, 32-character pools.
const platform = `p${"x".repeat(23)}`;
const model = `m${"y".repeat(47)}`;
const pool = `q${"z".repeat(31)}`;

describe("SageMaker resource names", () => {
  it("keeps every name built from the longest accepted parts within 63 characters of SageMaker's alphabet", () => {
    const names = [
      endpointName({ name: platform }, model),
      poolEndpointName(platform, pool),
      inferenceComponentName(platform, model, 9999),
      variantName(9999),
      POOL_VARIANT_NAME,
    ];
    for (const name of names) {
      expect(name.length).toBeLessThanOrEqual(63);
      expect(name).toMatch(SAGEMAKER_NAME);
    }
  });

  it("leaves a name that fits as it is", () => {
    expect(endpointName({ name: "modelgate" }, "iris")).toBe("modelgate-iris");
    expect(inferenceComponentName("modelgate", "iris", 2)).toBe("modelgate-iris-v2");
  });

  it("shortens a long name deterministically, and two long names that differ only at the end stay distinct", () => {
    const a = endpointName({ name: platform }, `${model.slice(0, 47)}a`);
    const b = endpointName({ name: platform }, `${model.slice(0, 47)}b`);
    expect(a).toBe(endpointName({ name: platform }, `${model.slice(0, 47)}a`));
    expect(a).not.toBe(b);
    expect(a.length).toBe(63);
  });

  it("never ends the kept part in a hyphen before the digest", () => {
    const name = sagemakerName(`${"a".repeat(53)}-${"b".repeat(20)}`);
    expect(name).toMatch(SAGEMAKER_NAME);
    expect(name).not.toContain("--");
  });
});
