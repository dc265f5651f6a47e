import { type Classifier, type DenseLayer, denseForward, type Standardization, softmax, standardize } from "./classifier";
import { type Rng, seededRng, shuffledIndices } from "./rng";

export interface TrainOptions {
  /** Sizes of the tanh hidden layers; [] = multinomial logistic regression. */
  readonly hidden: readonly number[];
  readonly standardize: boolean;
  readonly epochs: number;
  readonly learningRate: number;
  /** 0 = full-batch gradient descent. */
  readonly batchSize: number;
  /** L2 penalty on weights (not biases). */
  readonly l2: number;
  readonly seed: number;
}

/**
 * Trains a softmax classifier with (mini-batch) gradient descent on cross-entropy.
 * Deterministic: all randomness (initialisation, batch order) comes from `seed`.
 */
export function trainClassifier(
  features: readonly (readonly number[])[],
  labels: readonly number[],
  classCount: number,
  opts: TrainOptions,
): Classifier {
  const rng = seededRng(opts.seed);
  const inputs = features[0]?.length ?? 0;
  const standardization = opts.standardize ? fitStandardization(features) : undefined;
  const xs = features.map((x) => standardize(x, standardization));
  const sizes = [inputs, ...opts.hidden, classCount];
  const layers: DenseLayer[] = sizes.slice(1).map((out, k) => {
    const isLast = k === sizes.length - 2;
    return initLayer(sizes[k] as number, out, isLast ? "identity" : "tanh", rng);
  });
  const batchSize = opts.batchSize > 0 ? opts.batchSize : xs.length;

  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    const order = opts.batchSize > 0 ? shuffledIndices(xs.length, rng) : xs.map((_, i) => i);
    for (let start = 0; start < order.length; start += batchSize) {
      const batch = order.slice(start, start + batchSize);
      const grads = layers.map((l) => ({
        weights: l.weights.map((row) => row.map(() => 0)),
        bias: l.bias.map(() => 0),
      }));
      for (const n of batch) accumulateGradients(layers, grads, xs[n] as number[], labels[n] as number);
      const scale = opts.learningRate / batch.length;
      layers.forEach((layer, k) => {
        const g = grads[k] as (typeof grads)[number];
        layer.weights.forEach((row, i) => {
          const gRow = g.weights[i] as number[];
          for (let j = 0; j < row.length; j++) {
            const w = row[j] as number;
            row[j] = w - scale * (gRow[j] as number) - opts.learningRate * opts.l2 * w;
          }
        });
        for (let j = 0; j < layer.bias.length; j++) {
          layer.bias[j] = (layer.bias[j] as number) - scale * (g.bias[j] as number);
        }
      });
    }
  }
  return { ...(standardization && { standardization }), layers };
}

function fitStandardization(features: readonly (readonly number[])[]): Standardization {
  const dims = features[0]?.length ?? 0;
  const mean = Array.from({ length: dims }, (_, i) => avg(features.map((x) => x[i] as number)));
  const std = mean.map((m, i) => Math.sqrt(avg(features.map((x) => ((x[i] as number) - m) ** 2))));
  return { mean, std };
}

function avg(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Xavier/Glorot uniform initialisation; tanh layers need symmetric, non-zero starting weights. */
function initLayer(inputs: number, outputs: number, activation: DenseLayer["activation"], rng: Rng): DenseLayer {
  const limit = Math.sqrt(6 / (inputs + outputs));
  return {
    weights: Array.from({ length: inputs }, () => Array.from({ length: outputs }, () => (rng() * 2 - 1) * limit)),
    bias: new Array<number>(outputs).fill(0),
    activation,
  };
}

interface Gradient {
  weights: number[][];
  bias: number[];
}

/** Backpropagation of softmax cross-entropy for one sample, added into `grads`. */
function accumulateGradients(layers: readonly DenseLayer[], grads: Gradient[], x: number[], label: number): void {
  const activations: number[][] = [x];
  for (const layer of layers) activations.push(denseForward(layer, activations.at(-1) as number[]));
  const probs = softmax(activations.at(-1) as number[]);
  let delta = probs.map((p, j) => p - (j === label ? 1 : 0));
  for (let k = layers.length - 1; k >= 0; k--) {
    const layer = layers[k] as DenseLayer;
    const input = activations[k] as number[];
    const g = grads[k] as Gradient;
    for (let i = 0; i < input.length; i++) {
      const gRow = g.weights[i] as number[];
      for (let j = 0; j < delta.length; j++) gRow[j] = (gRow[j] as number) + (input[i] as number) * (delta[j] as number);
    }
    for (let j = 0; j < delta.length; j++) g.bias[j] = (g.bias[j] as number) + (delta[j] as number);
    if (k > 0) {
      // The previous layer is tanh: d tanh(z)/dz = 1 - tanh(z)^2, and tanh(z) is its stored output.
      const back = input.map((_, i) => {
        const row = layer.weights[i] as number[];
        let s = 0;
        for (let j = 0; j < delta.length; j++) s += (row[j] as number) * (delta[j] as number);
        return s * (1 - (input[i] as number) ** 2);
      });
      delta = back;
    }
  }
}
