/**
 * A small dense softmax classifier: optional input standardisation, then dense layers
 * (tanh between them, identity on the last one, whose outputs are the logits).
 * With no hidden layer it is multinomial logistic regression.
 */
export interface DenseLayer {
  /** weights[i][j]: from input i to output j (the layout ONNX Gemm wants for B). */
  readonly weights: number[][];
  readonly bias: number[];
  readonly activation: "tanh" | "identity";
}

export interface Standardization {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

export interface Classifier {
  readonly standardization?: Standardization;
  readonly layers: readonly DenseLayer[];
}

export function standardize(x: readonly number[], s: Standardization | undefined): number[] {
  if (!s) return x.slice();
  return x.map((v, i) => (v - (s.mean[i] as number)) / (s.std[i] as number));
}

export function denseForward(layer: DenseLayer, x: readonly number[]): number[] {
  const out = layer.bias.slice();
  for (let i = 0; i < x.length; i++) {
    const row = layer.weights[i] as number[];
    const xi = x[i] as number;
    for (let j = 0; j < out.length; j++) out[j] = (out[j] as number) + xi * (row[j] as number);
  }
  return layer.activation === "tanh" ? out.map(Math.tanh) : out;
}

export function softmax(logits: readonly number[]): number[] {
  const max = Math.max(...logits);
  const exps = logits.map((z) => Math.exp(z - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

export function predictProbabilities(model: Classifier, x: readonly number[]): number[] {
  let h = standardize(x, model.standardization);
  for (const layer of model.layers) h = denseForward(layer, h);
  return softmax(h);
}

export function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}

export function accuracy(model: Classifier, features: readonly (readonly number[])[], labels: readonly number[]): number {
  let correct = 0;
  features.forEach((x, n) => {
    if (argmax(predictProbabilities(model, x)) === labels[n]) correct++;
  });
  return correct / features.length;
}

/**
 * Round every parameter to float32, so the JS model and the ONNX file (which stores
 * float32) are the same function and the reported accuracy is the file's accuracy.
 */
export function toFloat32(model: Classifier): Classifier {
  const f = (xs: readonly number[]) => xs.map((v) => Math.fround(v));
  return {
    ...(model.standardization && {
      standardization: { mean: f(model.standardization.mean), std: f(model.standardization.std) },
    }),
    layers: model.layers.map((l) => ({ ...l, weights: l.weights.map(f), bias: f(l.bias) })),
  };
}
