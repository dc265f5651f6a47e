/**
 * Latent semantic analysis (Deerwester et al. 1990) over BPE tokens: a token-by-passage matrix
 * X[v][p] = idf(v) · log(1 + tf(v, p)), the eigenvectors of X·Xᵀ (the left singular vectors of
 * X), and the fold-in of a new text q as Σ⁻¹·Uᵀ·(idf ⊙ tf(q)). Plain counting and one
 * symmetric eigen-decomposition: deterministic, no random initialisation, nothing downloaded.
 */

export interface LsaOptions {
  readonly vocabSize: number;
  /** Latent dimensions kept (the largest singular values first). */
  readonly rank: number;
  /** Tokens per passage: a chapter is cut into passages of this many tokens. */
  readonly passageTokens: number;
}

export interface LsaModel {
  /** [vocab][rank]: the row a token adds to a text's sum (idf and Σ⁻¹ folded in). */
  readonly table: Float32Array;
  /** The singular values kept, largest first. */
  readonly singularValues: readonly number[];
  readonly passages: number;
}

/** Trains the model over the token ids of each document (a chapter). */
export function trainLsa(documents: readonly (readonly number[])[], opts: LsaOptions): LsaModel {
  const V = opts.vocabSize;
  const passages: number[][] = [];
  for (const ids of documents) {
    for (let i = 0; i < ids.length; i += opts.passageTokens) passages.push(ids.slice(i, i + opts.passageTokens));
  }
  const df = new Float64Array(V);
  for (const p of passages) for (const id of new Set(p)) df[id] = (df[id] ?? 0) + 1;
  const N = passages.length;
  const idf = Array.from(df, (d) => Math.log((N + 1) / (d + 1)));
  // X·Xᵀ accumulated passage by passage: V×V, never the V×N matrix itself.
  const gram = new Float64Array(V * V);
  for (const p of passages) {
    const tf = new Map<number, number>();
    for (const id of p) tf.set(id, (tf.get(id) ?? 0) + 1);
    const entries = [...tf].sort((a, b) => a[0] - b[0]).map(([v, c]) => [v, (idf[v] as number) * Math.log1p(c)] as const);
    for (const [i, a] of entries) for (const [j, b] of entries) gram[i * V + j] = (gram[i * V + j] as number) + a * b;
  }
  const { values, vectors } = symmetricEigen(gram, V);
  const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => (values[b] as number) - (values[a] as number) || a - b);
  const kept = order.slice(0, opts.rank);
  const table = new Float32Array(V * opts.rank);
  const singularValues: number[] = [];
  kept.forEach((col, k) => {
    const sigma = Math.sqrt(Math.max(values[col] as number, 0));
    singularValues.push(sigma);
    // An eigenvector's sign is arbitrary: fix it (largest entry positive) so rebuilds agree.
    let sign = 1;
    let largest = 0;
    for (let v = 0; v < V; v++) {
      const x = vectors[v * V + col] as number;
      if (Math.abs(x) > largest) [largest, sign] = [Math.abs(x), Math.sign(x)];
    }
    for (let v = 0; v < V; v++)
      table[v * opts.rank + k] = sigma > 0 ? (sign * (idf[v] as number) * (vectors[v * V + col] as number)) / sigma : 0;
  });
  return { table, singularValues, passages: N };
}

/**
 * Eigenvalues and eigenvectors (columns of `vectors`, row-major n×n) of a symmetric matrix by
 * cyclic Jacobi rotations: slower than a QR algorithm, but short, exact in order and stable.
 */
export function symmetricEigen(matrix: Float64Array, n: number, maxSweeps = 20): { values: number[]; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  const at = (m: Float64Array, i: number) => m[i] as number;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let r = p + 1; r < n; r++) off += at(a, p * n + r) ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++) {
      for (let r = p + 1; r < n; r++) {
        const apr = at(a, p * n + r);
        if (Math.abs(apr) < 1e-300) continue;
        const theta = (at(a, r * n + r) - at(a, p * n + p)) / (2 * apr);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = at(a, k * n + p);
          const akr = at(a, k * n + r);
          a[k * n + p] = c * akp - s * akr;
          a[k * n + r] = s * akp + c * akr;
        }
        for (let k = 0; k < n; k++) {
          const apk = at(a, p * n + k);
          const ark = at(a, r * n + k);
          a[p * n + k] = c * apk - s * ark;
          a[r * n + k] = s * apk + c * ark;
        }
        for (let k = 0; k < n; k++) {
          const qkp = at(q, k * n + p);
          const qkr = at(q, k * n + r);
          q[k * n + p] = c * qkp - s * qkr;
          q[k * n + r] = s * qkp + c * qkr;
        }
      }
    }
  }
  return { values: Array.from({ length: n }, (_, i) => at(a, i * n + i)), vectors: q };
}
