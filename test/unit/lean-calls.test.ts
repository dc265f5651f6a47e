import { InvokeEndpointCommand, SageMakerRuntimeClient } from "@aws-sdk/client-sagemaker-runtime";
import { describe, expect, it, jest } from "@jest/globals";
import { HttpResponse } from "@smithy/core/transport";
import type { AuthScheme, HttpRequest, RequestSigner } from "@smithy/types";
import { fastConfig, reuseSigner } from "../../functions/aws/lean-calls";

const scheme = (signingRegion: string): AuthScheme => ({ name: "sigv4", signingName: "sagemaker", signingRegion, properties: {} });
const signer = (): RequestSigner => ({ sign: async (request) => request });

describe("reuseSigner", () => {
  it("builds one signer per auth scheme, and asks again after a failed build", async () => {
    let builds = 0;
    const client = {
      config: {
        signer: async (_scheme?: AuthScheme) => {
          builds++;
          if (builds === 1) throw new Error("no region yet");
          return signer();
        },
      },
    };
    reuseSigner(client);
    await expect(client.config.signer(scheme("us-east-1"))).rejects.toThrow("no region yet");
    const first = await client.config.signer(scheme("us-east-1"));
    expect(await client.config.signer(scheme("us-east-1"))).toBe(first);
    const other = await client.config.signer(scheme("eu-west-1"));
    expect(other).not.toBe(first);
    expect(builds).toBe(3);
  });
});

describe("fastConfig", () => {
  it("gives a client a copy of its config, every entry kept, that its calls read", async () => {
    const sent: HttpRequest[] = [];
    const requestHandler = {
      handle: async (request: HttpRequest) => {
        sent.push(request);
        return {
          response: new HttpResponse({ statusCode: 200, headers: { "content-type": "application/json" }, body: Buffer.from('{"ok":1}') }),
        };
      },
      updateHttpClientConfig() {},
      httpHandlerConfigs: () => ({}),
    };
    const client = new SageMakerRuntimeClient({
      region: "us-east-1",
      endpoint: "http://127.0.0.1:9",
      credentials: { accessKeyId: "a", secretAccessKey: "b" },
      maxAttempts: 1,
      cacheMiddleware: true,
      requestHandler,
    });
    const original = client.config;
    fastConfig(client);
    expect(client.config).not.toBe(original);
    expect(client.config).toEqual(original);
    const resolve = jest.spyOn(InvokeEndpointCommand.prototype, "resolveMiddleware");
    try {
      const out = await client.send(
        new InvokeEndpointCommand({ EndpointName: "e", Body: Buffer.from("{}"), ContentType: "application/json" }),
      );
      expect(Buffer.from(out.Body ?? []).toString()).toBe('{"ok":1}');
      expect(resolve.mock.calls[0]?.[1]).toBe(client.config);
    } finally {
      resolve.mockRestore();
    }
    expect(sent[0]?.hostname).toBe("127.0.0.1");
    expect(sent[0]?.path).toBe("/endpoints/e/invocations");
    expect(sent[0]?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 /);
  });
});
