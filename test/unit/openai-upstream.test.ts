import { describe, expect, it } from "@jest/globals";
import { routeAttribute } from "../../functions/contract/upstream-route";
import { containerPaths } from "../../infra/local/sagemaker-runtime/openai-upstream";

const openai = (url: string) => ({ variantName: "v1", url, protocol: "openai" as const });
const chatBody = Buffer.from(JSON.stringify({ model: "m", messages: [] }));

describe("where the local SageMaker emulator sends a call", () => {
  it("goes to the route the gateway named on an OpenAI-compatible server, whatever the body looks like", () => {
    expect(containerPaths(openai("http://127.0.0.1:9/"), chatBody, routeAttribute("/v1/embeddings")).invocations).toBe("v1/embeddings");
    expect(containerPaths(openai("http://127.0.0.1:9/v1"), chatBody, routeAttribute("/v1/completions")).invocations).toBe("completions");
  });

  it("falls back to the LMI body shape for a call that names no route, and keeps /invocations for a SageMaker container", () => {
    expect(containerPaths(openai("http://127.0.0.1:9"), chatBody).invocations).toBe("v1/chat/completions");
    expect(containerPaths(openai("http://127.0.0.1:9"), Buffer.from("{}")).invocations).toBe("v1/completions");
    const sagemaker = containerPaths({ variantName: "v1", url: "http://127.0.0.1:9" }, chatBody, routeAttribute("/v1/embeddings"));
    expect(sagemaker).toEqual({ invocations: "invocations", ping: "ping" });
  });
});
