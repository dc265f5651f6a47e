import { type Rng, seededRng } from "../rng";

/**
 * A fixed-context neural language model in the style of Bengio et al. (2003), "A Neural
 * Probabilistic Language Model": the embeddings of the previous `context` tokens are
 * concatenated, go through one tanh hidden layer, and a linear layer gives the next-token logits.
 *   e = [E[x(t-k+1)], ..., E[x(t)]]     (k*D; a position before the text start is a zero vector)
 *   h = tanh(W1·e + b1)                 (H)
 *   logits(t) = W2·h + b2               (V: the distribution of x(t+1))
 * Causal by construction: position t only sees tokens up to t.
 */
export interface MlpLmShape {
  readonly vocabSize: number;
  readonly context: number;
  readonly embedding: number;
  readonly hidden: number;
}

export interface MlpLmWeights {
  readonly shape: MlpLmShape;
  /** [V][D] */
  readonly embedding: Float32Array;
  /** [k*D][H]: row (j*D + d) holds the weights of context slot j (oldest first), embedding dim d. */
  readonly w1: Float32Array;
  readonly b1: Float32Array;
  /** [H][V] */
  readonly w2: Float32Array;
  readonly b2: Float32Array;
}

export function parameterCount(shape: MlpLmShape): number {
  const { vocabSize: v, context: k, embedding: d, hidden: h } = shape;
  return v * d + k * d * h + h + h * v + v;
}

/** Xavier/Glorot uniform weights, zero biases, small uniform embeddings; all from `rng`. */
export function initWeights(shape: MlpLmShape, rng: Rng): MlpLmWeights {
  const { vocabSize: v, context: k, embedding: d, hidden: h } = shape;
  const uniform = (n: number, limit: number) => Float32Array.from({ length: n }, () => (rng() * 2 - 1) * limit);
  return {
    shape,
    embedding: uniform(v * d, 0.5),
    w1: uniform(k * d * h, Math.sqrt(6 / (k * d + h))),
    b1: new Float32Array(h),
    w2: uniform(h * v, Math.sqrt(6 / (h + v))),
    b2: new Float32Array(v),
  };
}

/** Working buffers for one sample, allocated once per training run. */
class Scratch {
  readonly e: Float64Array;
  readonly h: Float64Array;
  readonly logits: Float64Array;
  readonly dh: Float64Array;
  readonly de: Float64Array;
  constructor(s: MlpLmShape) {
    this.e = new Float64Array(s.context * s.embedding);
    this.h = new Float64Array(s.hidden);
    this.logits = new Float64Array(s.vocabSize);
    this.dh = new Float64Array(s.hidden);
    this.de = new Float64Array(s.context * s.embedding);
  }
}

/** Context token ids for predicting tokens[t+1]: the k tokens ending at t, -1 for "before the text". */
function fillContext(tokens: Int32Array, t: number, keep: number, out: Int32Array): void {
  const k = out.length;
  for (let j = 0; j < k; j++) {
    const pos = t - (k - 1) + j;
    out[j] = pos >= 0 && j >= k - keep ? (tokens[pos] as number) : -1;
  }
}

/** Forward pass for one context; leaves e, h and softmax probabilities in `s`; returns -log p(target). */
function forward(w: MlpLmWeights, ctx: Int32Array, target: number, s: Scratch): number {
  const { vocabSize: V, embedding: D, hidden: H } = w.shape;
  const { e, h, logits } = s;
  for (let j = 0; j < ctx.length; j++) {
    const id = ctx[j] as number;
    for (let d = 0; d < D; d++) e[j * D + d] = id < 0 ? 0 : (w.embedding[id * D + d] as number);
  }
  for (let o = 0; o < H; o++) h[o] = w.b1[o] as number;
  for (let i = 0; i < e.length; i++) {
    const x = e[i] as number;
    if (x === 0) continue;
    const row = i * H;
    for (let o = 0; o < H; o++) h[o] = (h[o] as number) + x * (w.w1[row + o] as number);
  }
  for (let o = 0; o < H; o++) h[o] = Math.tanh(h[o] as number);
  for (let v = 0; v < V; v++) logits[v] = w.b2[v] as number;
  for (let i = 0; i < H; i++) {
    const x = h[i] as number;
    const row = i * V;
    for (let v = 0; v < V; v++) logits[v] = (logits[v] as number) + x * (w.w2[row + v] as number);
  }
  let max = Number.NEGATIVE_INFINITY;
  for (let v = 0; v < V; v++) if ((logits[v] as number) > max) max = logits[v] as number;
  let sum = 0;
  for (let v = 0; v < V; v++) {
    const p = Math.exp((logits[v] as number) - max);
    logits[v] = p;
    sum += p;
  }
  for (let v = 0; v < V; v++) logits[v] = (logits[v] as number) / sum;
  return -Math.log(Math.max(logits[target] as number, 1e-30));
}

type Gradients = Omit<MlpLmWeights, "shape">;

function zeroGradients(shape: MlpLmShape): Gradients {
  const { vocabSize: v, context: k, embedding: d, hidden: h } = shape;
  return {
    embedding: new Float32Array(v * d),
    w1: new Float32Array(k * d * h),
    b1: new Float32Array(h),
    w2: new Float32Array(h * v),
    b2: new Float32Array(v),
  };
}

/** Backpropagation of the cross-entropy of the last forward pass, added into `g`. */
function backward(w: MlpLmWeights, ctx: Int32Array, target: number, s: Scratch, g: Gradients): void {
  const { vocabSize: V, embedding: D, hidden: H } = w.shape;
  const { e, h, logits: p, dh, de } = s;
  p[target] = (p[target] as number) - 1; // d loss / d logits = softmax - onehot
  for (let v = 0; v < V; v++) g.b2[v] = (g.b2[v] as number) + (p[v] as number);
  for (let i = 0; i < H; i++) {
    const x = h[i] as number;
    const row = i * V;
    let back = 0;
    for (let v = 0; v < V; v++) {
      const dl = p[v] as number;
      g.w2[row + v] = (g.w2[row + v] as number) + x * dl;
      back += (w.w2[row + v] as number) * dl;
    }
    dh[i] = back * (1 - x * x); // tanh'(z) = 1 - tanh(z)^2
  }
  for (let o = 0; o < H; o++) g.b1[o] = (g.b1[o] as number) + (dh[o] as number);
  for (let i = 0; i < e.length; i++) {
    const x = e[i] as number;
    const row = i * H;
    let back = 0;
    for (let o = 0; o < H; o++) {
      const dz = dh[o] as number;
      g.w1[row + o] = (g.w1[row + o] as number) + x * dz;
      back += (w.w1[row + o] as number) * dz;
    }
    de[i] = back;
  }
  for (let j = 0; j < ctx.length; j++) {
    const id = ctx[j] as number;
    if (id < 0) continue;
    for (let d = 0; d < D; d++) g.embedding[id * D + d] = (g.embedding[id * D + d] as number) + (de[j * D + d] as number);
  }
}

export interface TrainLmOptions {
  readonly steps: number;
  readonly batchSize: number;
  /** Peak Adam learning rate; it decays linearly to a tenth of it over the run. */
  readonly learningRate: number;
  readonly seed: number;
  /**
   * Share of samples whose context is cut to a random shorter length (the rest zeroed), so the
   * model has seen what a prompt shorter than the context window looks like.
   */
  readonly shortContextRate: number;
}

export interface TrainLmResult {
  readonly weights: MlpLmWeights;
  /** Mean cross-entropy (nats/token) on the held-out positions before and after training. */
  readonly heldOutLossStart: number;
  readonly heldOutLossEnd: number;
}

/**
 * Mini-batch Adam on next-token cross-entropy over `train`, held-out loss on `heldOut`.
 * Deterministic: initialisation and batch positions come from `seed`, float operations run
 * in a fixed order, so the same inputs give bit-identical weights.
 */
export function trainMlpLm(train: Int32Array, heldOut: Int32Array, shape: MlpLmShape, opts: TrainLmOptions): TrainLmResult {
  const rng = seededRng(opts.seed);
  const weights = initWeights(shape, rng);
  const scratch = new Scratch(shape);
  const ctx = new Int32Array(shape.context);
  const heldOutLossStart = meanLoss(weights, heldOut, scratch);
  const adam = new Adam(weights, opts.learningRate);
  for (let step = 0; step < opts.steps; step++) {
    const g = adam.gradients;
    for (let b = 0; b < opts.batchSize; b++) {
      const t = Math.floor(rng() * (train.length - 1));
      const keep = rng() < opts.shortContextRate ? 1 + Math.floor(rng() * (shape.context - 1)) : shape.context;
      fillContext(train, t, keep, ctx);
      const target = train[t + 1] as number;
      forward(weights, ctx, target, scratch);
      backward(weights, ctx, target, scratch, g);
    }
    adam.step(1 / opts.batchSize, 1 - 0.9 * (step / opts.steps));
  }
  return { weights, heldOutLossStart, heldOutLossEnd: meanLoss(weights, heldOut, scratch) };
}

/** Mean next-token cross-entropy over every position of `tokens`. */
export function meanLoss(w: MlpLmWeights, tokens: Int32Array, scratch = new Scratch(w.shape)): number {
  const ctx = new Int32Array(w.shape.context);
  let total = 0;
  for (let t = 0; t < tokens.length - 1; t++) {
    fillContext(tokens, t, w.shape.context, ctx);
    total += forward(w, ctx, tokens[t + 1] as number, scratch);
  }
  return total / (tokens.length - 1);
}

/** Adam (Kingma & Ba 2015) over every weight array, with its own gradient buffers. */
class Adam {
  readonly gradients: Gradients;
  private readonly m: Gradients;
  private readonly v: Gradients;
  private t = 0;
  private readonly keys = ["embedding", "w1", "b1", "w2", "b2"] as const;
  constructor(
    private readonly weights: MlpLmWeights,
    private readonly learningRate: number,
  ) {
    this.gradients = zeroGradients(weights.shape);
    this.m = zeroGradients(weights.shape);
    this.v = zeroGradients(weights.shape);
  }

  /** Applies the accumulated gradients (times `scale`) and clears them. */
  step(scale: number, lrFactor: number): void {
    const beta1 = 0.9;
    const beta2 = 0.999;
    this.t++;
    const lr = (this.learningRate * lrFactor * Math.sqrt(1 - beta2 ** this.t)) / (1 - beta1 ** this.t);
    for (const key of this.keys) {
      const w = this.weights[key];
      const g = this.gradients[key];
      const m = this.m[key];
      const v = this.v[key];
      for (let i = 0; i < w.length; i++) {
        const gi = (g[i] as number) * scale;
        const mi = beta1 * (m[i] as number) + (1 - beta1) * gi;
        const vi = beta2 * (v[i] as number) + (1 - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] = (w[i] as number) - (lr * mi) / (Math.sqrt(vi) + 1e-8);
        g[i] = 0;
      }
    }
  }
}

export { seededRng };
