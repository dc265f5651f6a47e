import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { type LambdaEmulator, startLambdaEmulator } from "../../infra/local/lambda-runtime/server";
import { type ModelHost, startLlmModelHost, startOnnxModelHost } from "../../infra/local/model-host/index";
import { type SageMakerRuntimeEmulator, startSageMakerRuntimeEmulator } from "../../infra/local/sagemaker-runtime";
import { HOSTILE_REQUESTS, rawRequest, wellFormed } from "./raw-http";

const modelPath = join(import.meta.dirname, "../../models/iris/1/model.onnx");
const portOf = (url: string) => Number(new URL(url).port);

/** Every hostile request gets a 4xx with a JSON body, and the listener still answers afterwards. */
async function expectSurvives(port: number, healthy: string, healthyStatus: number) {
  for (const request of HOSTILE_REQUESTS) {
    const res = await rawRequest(port, request);
    const clientError = res.status >= 400 && res.status < 500;
    expect({ request: request.slice(0, 60), status: res.status, clientError }).toMatchObject({ clientError: true });
    const json = (() => {
      try {
        return JSON.parse(res.body) as unknown;
      } catch {
        return undefined;
      }
    })();
    expect({ request: request.slice(0, 60), raw: res.raw.slice(0, 200), isJson: json !== undefined }).toMatchObject({ isJson: true });
    expect((await rawRequest(port, healthy)).status).toBe(healthyStatus);
  }
}

describe("local listeners answer hostile input with a 4xx and keep serving", () => {
  let lambda: LambdaEmulator;
  let sagemaker: SageMakerRuntimeEmulator;
  let host: ModelHost;
  beforeAll(async () => {
    lambda = await startLambdaEmulator({ functions: { echo: async (e) => e } });
    sagemaker = await startSageMakerRuntimeEmulator({ maxPayloadBytes: 1024 });
    host = await startOnnxModelHost({ modelPath, modelName: "iris", version: 1 });
    sagemaker.setEndpoint("ep", [{ variantName: "v1", url: host.url }]);
  });
  afterAll(async () => {
    await lambda?.stop();
    await sagemaker?.close();
    await host?.close();
  });

  it("Lambda Invoke emulator", async () => {
    await expectSurvives(portOf(lambda.url), wellFormed("/2015-03-31/functions/echo/invocations", "POST"), 200);
    const bad = await rawRequest(portOf(lambda.url), wellFormed("/2015-03-31/functions/%E0%A4%A/invocations", "POST"));
    expect(bad.status).toBe(400);
    expect(bad.headers["x-amzn-errortype"]).toBe("InvalidParameterValueException");
  });

  it("SageMaker Runtime emulator, whose bodies are capped", async () => {
    await expectSurvives(portOf(sagemaker.url), wellFormed("/endpoints/missing/invocations", "POST"), 400);
    const bad = await rawRequest(portOf(sagemaker.url), wellFormed("/endpoints/%E0%A4%A/invocations", "POST"));
    expect(bad.status).toBe(400);
    // Over the cap, declared or streamed (chunked): 413 before the container sees anything.
    const declared = await rawRequest(
      portOf(sagemaker.url),
      "POST /endpoints/ep/invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n",
    );
    expect(declared.status).toBe(413);
    const chunk = "x".repeat(600);
    const streamed = await rawRequest(
      portOf(sagemaker.url),
      `POST /endpoints/ep/invocations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n${chunk}\r\n258\r\n${chunk}\r\n0\r\n\r\n`,
    );
    expect(streamed.status).toBe(413);
    expect(JSON.parse(streamed.body)).toMatchObject({ Message: "HTTP content length exceeded 1024 bytes." });
  });

  it("ONNX model host", async () => {
    await expectSurvives(host.port, wellFormed("/ping"), 200);
  });

  it("LLM model host (tinylm)", async () => {
    const llm = await startLlmModelHost({ modelDir: "models/tinylm/1", modelName: "tinylm", version: 1 });
    try {
      await expectSurvives(llm.port, wellFormed("/ping"), 200);
    } finally {
      await llm.close();
    }
  });

  it("a stray promise rejection is logged by `npm start`'s process, which keeps running", () => {
    const script = [
      'import { logUnhandledRejections } from "./infra/local/http-guard.ts";',
      "logUnhandledRejections();",
      'Promise.reject(new Error("stray"));',
      'setTimeout(() => console.log("still alive"), 200);',
    ].join("\n");
    const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8", timeout: 30_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("still alive");
    expect(r.stderr).toContain("unhandled promise rejection (still running): Error: stray");
  });
});
