import { describe, expect, it } from "@jest/globals";
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
    expect(c.gateway.authorizerCacheTtlSeconds).toBe(60);
  });

  it("tells a config that still uses 'limits' for the platform settings what to rename", () => {
    const err = errorOf({ ...valid, limits: { maxBodyBytes: 2048 } });
    expect(err.message).toContain("limits");
    expect(err.message).toContain("'limits' is now 'gateway'");
    expect(parsePlatformConfig({ ...valid, gateway: { maxBodyBytes: 2048 } }).gateway.maxBodyBytes).toBe(2048);
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
    expect(loaded.config.models.tinylm).toMatchObject({ maxTokensPerRequest: 64, versions: [{ runtime: "lmi" }] });
    expect(loaded.localArtifacts.get("tinylm/1")).toMatch(/models\/tinylm\/1\/model\.onnx$/);
  });

  it("accepts an LLM version in front of a local OpenAI-compatible server", () => {
    const c = parsePlatformConfig({
      models: {
        llama: {
          maxTokensPerRequest: 256,
          versions: [{ version: 1, artifact: "s3://b/k", runtime: "lmi", localUrl: "http://127.0.0.1:11434" }],
          aliases: { prod: 1 },
        },
      },
    });
    expect(c.models.llama).toMatchObject({ maxTokensPerRequest: 256, versions: [{ localUrl: "http://127.0.0.1:11434" }] });
  });
});
