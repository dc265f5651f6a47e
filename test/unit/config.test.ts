import { describe, expect, it } from "vitest";
import { ConfigError, parsePlatformConfig } from "../../infra/shared/config";
import { loadPlatformConfig } from "../../infra/shared/load-config";

const valid = {
  models: {
    iris: {
      versions: [
        { version: 1, artifact: "a.onnx" },
        { version: 2, artifact: "b.onnx", instanceType: "ml.g5.2xlarge" },
      ],
      aliases: {
        prod: 1,
        canary: [
          { version: 1, weight: 90 },
          { version: 2, weight: 10 },
        ],
      },
    },
  },
};

function errorOf(input: unknown): ConfigError {
  try {
    parsePlatformConfig(input);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("platform config", () => {
  it("fills defaults", () => {
    const c = parsePlatformConfig(valid);
    expect(c.name).toBe("modelgate");
    expect(c.models.iris?.versions[0]?.instanceType).toBe("ml.g5.xlarge");
    expect(c.models.iris?.defaultAlias).toBe("prod");
    expect(c.limits.authorizerCacheTtlSeconds).toBe(60);
  });

  it.each([
    [
      "unknown runtime",
      { models: { iris: { ...valid.models.iris, versions: [{ version: 1, artifact: "a", runtime: "pytorch" }] } } },
      "models.iris.versions.0.runtime",
    ],
    ["alias to an undeclared version", { models: { iris: { ...valid.models.iris, aliases: { prod: 9 } } } }, "models.iris.aliases.prod"],
    [
      "non-ml instance type",
      {
        models: {
          iris: { ...valid.models.iris, versions: [{ version: 1, artifact: "a", instanceType: "g5.xlarge" }], aliases: { prod: 1 } },
        },
      },
      "models.iris.versions.0.instanceType",
    ],
    [
      "weights not summing to 100",
      { models: { iris: { ...valid.models.iris, aliases: { prod: [{ version: 1, weight: 50 }] } } } },
      "models.iris.aliases.prod",
    ],
    [
      "defaultMaxTokens on a non-LLM runtime",
      { models: { iris: { ...valid.models.iris, versions: [{ version: 1, artifact: "a", defaultMaxTokens: 64 }], aliases: { prod: 1 } } } },
      "models.iris.versions.0.defaultMaxTokens",
    ],
    [
      "localApi without localUrl",
      {
        models: {
          iris: {
            ...valid.models.iris,
            versions: [{ version: 1, artifact: "a", runtime: "lmi", localApi: "openai" }],
            aliases: { prod: 1 },
          },
        },
      },
      "models.iris.versions.0.localApi",
    ],
    ["unknown field", { ...valid, extra: true }, "(root)"],
    ["bad model name", { models: { Iris: valid.models.iris } }, "models.Iris"],
  ])("refuses %s, naming the field", (_, input, field) => {
    expect(errorOf(input).message).toContain(field);
  });

  it("loads the repo's modelgate.config.ts and finds its artifacts", async () => {
    const loaded = await loadPlatformConfig("modelgate.config.ts");
    expect(Object.keys(loaded.config.models)).toContain("iris");
    expect(loaded.localArtifacts.get("iris/1")).toMatch(/models\/iris\/1\/model\.onnx$/);
    expect(loaded.config.models.tinylm?.versions[0]).toMatchObject({ runtime: "lmi", defaultMaxTokens: 64 });
    expect(loaded.localArtifacts.get("tinylm/1")).toMatch(/models\/tinylm\/1\/model\.onnx$/);
  });

  it("accepts an LLM version in front of a local OpenAI-compatible server", () => {
    const c = parsePlatformConfig({
      models: {
        llama: {
          versions: [{ version: 1, artifact: "s3://b/k", runtime: "lmi", localUrl: "http://127.0.0.1:11434", defaultMaxTokens: 256 }],
          aliases: { prod: 1 },
        },
      },
    });
    expect(c.models.llama?.versions[0]).toMatchObject({ localUrl: "http://127.0.0.1:11434", defaultMaxTokens: 256 });
  });
});
