import { describe, expect, it } from "@jest/globals";
import { NotFoundError } from "../../functions/core/errors";
import type { Alias, ModelRecord, ModelVersion } from "../../functions/core/registry";
import { parseVersionOrAlias, pickWeighted, resolveVersion } from "../../functions/core/routing";

function version(v: number, status: ModelVersion["status"] = "ready"): ModelVersion {
  return {
    model: "iris",
    version: v,
    runtime: "onnx",
    status,
    endpointName: "mg-iris",
    variantName: `v${v}`,
    artifactUri: "s3://b/k",
    createdAt: "",
  };
}
function alias(name: string, targets: Alias["targets"]): Alias {
  return { model: "iris", alias: name, targets, revision: 1, updatedAt: "", updatedBy: "" };
}
const model: ModelRecord = {
  model: "iris",
  defaultAlias: "prod",
  versions: new Map([1, 2, 3].map((v) => [v, version(v, v === 3 ? "retired" : "ready")])),
  aliases: new Map([
    ["prod", alias("prod", [{ version: 1, weight: 100 }])],
    [
      "canary",
      alias("canary", [
        { version: 1, weight: 90 },
        { version: 2, weight: 10 },
      ]),
    ],
  ]),
};

describe("version resolution", () => {
  it("follows the default alias, a named alias, or an explicit version", () => {
    expect(resolveVersion(model, { kind: "default" }, "k").version.version).toBe(1);
    expect(resolveVersion(model, { kind: "default" }, "k").alias).toBe("prod");
    expect(resolveVersion(model, { kind: "version", version: 2 }, "k")).toEqual({ version: model.versions.get(2) });
  });

  it("unknown versions, retired versions and unknown aliases are 404s", () => {
    expect(() => resolveVersion(model, { kind: "version", version: 9 }, "k")).toThrow(NotFoundError);
    expect(() => resolveVersion(model, { kind: "version", version: 3 }, "k")).toThrow(NotFoundError);
    expect(() => resolveVersion(model, { kind: "alias", alias: "nope" }, "k")).toThrow(NotFoundError);
  });

  it("parses /versions/{x} as a number or an alias name, nothing else", () => {
    expect(parseVersionOrAlias("7")).toEqual({ kind: "version", version: 7 });
    expect(parseVersionOrAlias("prod")).toEqual({ kind: "alias", alias: "prod" });
    expect(() => parseVersionOrAlias("../x")).toThrow(NotFoundError);
    expect(() => parseVersionOrAlias("07")).toThrow(NotFoundError);
  });

  it("splits keys by weight within 2 points over 10,000 keys and is sticky per key", () => {
    const counts = new Map<number, number>();
    for (let i = 0; i < 10_000; i++) {
      const v = resolveVersion(model, { kind: "alias", alias: "canary" }, `key-${i}`).version.version;
      counts.set(v, (counts.get(v) ?? 0) + 1);
      expect(resolveVersion(model, { kind: "alias", alias: "canary" }, `key-${i}`).version.version).toBe(v);
    }
    expect(Math.abs((counts.get(2) ?? 0) / 100 - 10)).toBeLessThan(2);
  });

  it("ignores zero-weight targets", () => {
    for (let i = 0; i < 200; i++) {
      expect(
        pickWeighted(
          [
            { version: 1, weight: 0 },
            { version: 2, weight: 100 },
          ],
          `k${i}`,
        ),
      ).toBe(2);
    }
  });
});
