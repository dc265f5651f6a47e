import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { type ModelHost, ModelLoadError, readOnnxSignature, startOnnxModelHost } from "../../infra/local/model-host/index";

const modelPath = (v: number) => join(import.meta.dirname, "../../models/iris", String(v), "model.onnx");
const SETOSA = [5.1, 3.5, 1.4, 0.2];
const VIRGINICA = [7.7, 3.0, 6.1, 2.3];

async function invoke(host: ModelHost, body: unknown, raw = false) {
  const res = await fetch(`${host.url}/invocations`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: raw ? (body as string) : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> & { error?: string } };
}

const irisInput = (data: unknown, shape = [1, 4], datatype = "FP32", name = "input") => ({
  inputs: [{ name, shape, datatype, data }],
});

describe("ONNX model host", () => {
  let host: ModelHost;
  beforeAll(async () => {
    host = await startOnnxModelHost({ modelPath: modelPath(1), modelName: "iris", version: 1, maxBodyBytes: 64 * 1024 });
  });
  afterAll(() => host.close());

  it("answers /ping once loaded and reports the signature", async () => {
    expect((await fetch(`${host.url}/ping`)).status).toBe(200);
    expect(host.signature).toEqual({
      inputs: [{ name: "input", datatype: "FP32", shape: [-1, 4] }],
      outputs: [
        { name: "probabilities", datatype: "FP32", shape: [-1, 3] },
        { name: "label", datatype: "INT64", shape: [-1] },
      ],
    });
    expect(await readOnnxSignature(modelPath(2))).toEqual(host.signature);
  });

  it("runs a real batch inference (nested data) and echoes the id", async () => {
    const { status, json } = await invoke(host, { id: "req-1", ...irisInput([SETOSA, VIRGINICA], [2, 4]) });
    expect(status).toBe(200);
    expect(json).toMatchObject({ model_name: "iris", model_version: "1", id: "req-1" });
    const outputs = json.outputs as { name: string; shape: number[]; datatype: string; data: number[] }[];
    const probs = outputs.find((o) => o.name === "probabilities");
    expect(probs).toMatchObject({ datatype: "FP32", shape: [2, 3] });
    const [setosa = 0, versicolor = 0, virginica = 0] = probs?.data ?? [];
    expect(setosa).toBeGreaterThan(Math.max(versicolor, virginica));
    expect(outputs.find((o) => o.name === "label")).toEqual({ name: "label", datatype: "INT64", shape: [2], data: [0, 2] });
  });

  it("returns only the requested outputs", async () => {
    const { status, json } = await invoke(host, { ...irisInput(SETOSA), outputs: [{ name: "label" }] });
    expect(status).toBe(200);
    expect(json.outputs).toEqual([{ name: "label", datatype: "INT64", shape: [1], data: [0] }]);
  });

  it.each([
    ["malformed JSON", "{not json", /not valid JSON/],
    ["a body that is not an object", "[1,2]", /must be a JSON object/],
    ["null data", irisInput(null), /has 1 element\(s\) but shape \[1,4\] needs 4/],
    ["no inputs", { inputs: [] }, /'inputs' must be a non-empty array/],
    ["unknown input name", irisInput(SETOSA, [1, 4], "FP32", "features"), /unknown input 'features'/],
    ["missing input", { inputs: [{ name: "input", shape: [1, 4], datatype: "FP32" }] }, /has no 'data'/],
    ["wrong datatype", irisInput(SETOSA, [1, 4], "FP64"), /datatype FP64 but the model expects FP32/],
    ["unknown datatype", irisInput(SETOSA, [1, 4], "FLOAT"), /unknown datatype "FLOAT"/],
    ["wrong shape", irisInput(SETOSA, [1, 5]), /shape \[1,5\] but the model expects \[-1,4\]/],
    ["wrong rank", irisInput(SETOSA, [4]), /shape \[4\]/],
    ["wrong element count", irisInput(SETOSA, [2, 4]), /has 4 element\(s\) but shape \[2,4\] needs 8/],
    ["non-numeric element", irisInput([5.1, "x", 1.4, 0.2]), /element 1 is "x", expected a number/],
    ["unknown requested output", { ...irisInput(SETOSA), outputs: [{ name: "logits" }] }, /unknown output 'logits'/],
  ])("rejects %s with 400 and a JSON error", async (_case, body, message) => {
    const { status, json } = await invoke(host, body, typeof body === "string");
    expect(status).toBe(400);
    expect(json.error).toMatch(message);
  });

  it("rejects an oversized body with 413", async () => {
    const big = irisInput(
      Array.from({ length: 20_000 }, () => SETOSA),
      [20_000, 4],
    );
    const { status, json } = await invoke(host, big);
    expect(status).toBe(413);
    expect(json.error).toMatch(/exceeds the limit of 65536 bytes/);
    expect((await fetch(`${host.url}/ping`)).status).toBe(200);
  });

  it("answers unknown routes with 404 JSON", async () => {
    const res = await fetch(`${host.url}/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toHaveProperty("error");
  });

  it("rejects a file onnxruntime cannot load with ModelLoadError", async () => {
    const bogus = join(tmpdir(), `not-a-model-${process.pid}.onnx`);
    await writeFile(bogus, "this is not an ONNX protobuf");
    const start = startOnnxModelHost({ modelPath: bogus, modelName: "bogus", version: 1 });
    await expect(start).rejects.toBeInstanceOf(ModelLoadError);
    await expect(start).rejects.toThrow(/cannot load ONNX model/);
    await expect(readOnnxSignature(join(tmpdir(), "missing-model.onnx"))).rejects.toBeInstanceOf(ModelLoadError);
  });
});
