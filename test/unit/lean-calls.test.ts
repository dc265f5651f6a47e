import { describe, expect, it } from "@jest/globals";
import type { AuthScheme, RequestSigner } from "@smithy/types";
import { reuseSigner } from "../../functions/aws/lean-calls";

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
