import { BadRequestError } from "./errors";
import { areBillableTokens, isBillableTokenCount } from "./usage";

/**
 * Structural checks of a KServe v2 inference request, done at the gateway so malformed
 * requests get a precise 400 without spending a model call. The model host still checks
 * the tensors against the model's own signature.
 */
const DATATYPES = new Set([
  "BOOL",
  "UINT8",
  "UINT16",
  "UINT32",
  "UINT64",
  "INT8",
  "INT16",
  "INT32",
  "INT64",
  "FP16",
  "FP32",
  "FP64",
  "BYTES",
]);

/**
 * Bounds no real tensor reaches: a request body is capped at a few MiB, so no dimension (and
 * no product of the non-zero dimensions) can describe more elements than that; without the cap
 * a zero dimension lets `[9e15, 0]` pass the element count. 32 is NumPy's classic rank limit.
 */
export const MAX_TENSOR_RANK = 32;
export const MAX_TENSOR_ELEMENTS = 16_777_216;

/**
 * Leaf count of `data`, walked with an explicit stack (a recursive walk of `[[[…]]]` throws
 * `RangeError` on a 200 KB body). Arrays may nest at most `maxDepth` levels: the declared rank.
 */
function flatLength(data: readonly unknown[], maxDepth: number, at: string): number {
  const stack: { readonly items: readonly unknown[]; readonly depth: number }[] = [{ items: data, depth: 1 }];
  let n = 0;
  for (let frame = stack.pop(); frame; frame = stack.pop()) {
    for (const d of frame.items) {
      if (!Array.isArray(d)) {
        n += 1;
        continue;
      }
      if (frame.depth >= maxDepth) throw new BadRequestError(`${at}.data nests deeper than its shape's rank ${maxDepth}`);
      stack.push({ items: d, depth: frame.depth + 1 });
    }
  }
  return n;
}

function checkShape(shape: unknown, at: string): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new BadRequestError(`${at}.shape must be an array of non-negative integers`);
  }
  if (shape.length > MAX_TENSOR_RANK) throw new BadRequestError(`${at}.shape has more than ${MAX_TENSOR_RANK} dimensions`);
  let nonZeroProduct = 1;
  for (const d of shape as number[]) {
    if (d > 0) nonZeroProduct *= d;
    if (nonZeroProduct > MAX_TENSOR_ELEMENTS) {
      throw new BadRequestError(`${at}.shape describes more than ${MAX_TENSOR_ELEMENTS} elements (zero dimensions included)`);
    }
  }
  return shape as number[];
}

export function validateInferRequest(body: unknown): void {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new BadRequestError("inference request must be a JSON object");
  const inputs = (body as { inputs?: unknown }).inputs;
  if (!Array.isArray(inputs) || inputs.length === 0) throw new BadRequestError("'inputs' must be a non-empty array");
  inputs.forEach((input: unknown, i) => {
    const at = `inputs[${i}]`;
    if (typeof input !== "object" || input === null) throw new BadRequestError(`${at} must be an object`);
    const { name, shape: declared, datatype, data } = input as Record<string, unknown>;
    if (typeof name !== "string" || !name) throw new BadRequestError(`${at}.name must be a non-empty string`);
    const shape = checkShape(declared, at);
    if (typeof datatype !== "string" || !DATATYPES.has(datatype)) throw new BadRequestError(`${at}.datatype must be a KServe v2 datatype`);
    if (!Array.isArray(data)) throw new BadRequestError(`${at}.data must be an array`);
    const expected = shape.reduce((a, b) => a * b, 1);
    // A scalar (rank 0) still arrives as a one-element array.
    const actual = flatLength(data, Math.max(shape.length, 1), at);
    if (expected !== actual) throw new BadRequestError(`${at}: shape [${shape.join(",")}] needs ${expected} elements, data has ${actual}`);
  });
}

/**
 * Token counts a model reported (KServe parameters or an LLM usage object), when it did and they
 * can be billed. Counts must be non-negative safe integers up to MAX_BILLED_TOKENS_PER_REQUEST;
 * a report with any other value (negative, fractional, huge, NaN, a string, an object) is
 * ignored as a whole, and `onRejected` is told what it said. An absent count is 0.
 */
export function reportedTokens(body: unknown, onRejected?: (usage: unknown) => void): ReportedTokens | undefined {
  const usage = usageObjectOf(body);
  if (usage === undefined) return undefined;
  const input = usage.prompt_tokens ?? usage.input_tokens ?? 0;
  const output = usage.completion_tokens ?? usage.output_tokens ?? 0;
  const tokens = { input, output };
  if (!areBillableTokens(tokens)) {
    onRejected?.(usage);
    return undefined;
  }
  if (tokens.input === 0 && tokens.output === 0) return undefined;
  const cached = cachedTokensOf(usage);
  // Cached tokens are part of the prompt's: a count above it is no basis for a cheaper bill.
  return cached !== undefined && cached > 0 && cached <= tokens.input ? { ...tokens, cached } : tokens;
}

/** Token counts as an engine reports them; `cached`: prompt tokens served from its prefix cache. */
export interface ReportedTokens {
  readonly input: number;
  readonly output: number;
  readonly cached?: number;
}

/** OpenAI's `prompt_tokens_details.cached_tokens` (vLLM reports it with prefix caching on). */
function cachedTokensOf(usage: Record<string, unknown>): number | undefined {
  const details = usage.prompt_tokens_details ?? usage.input_tokens_details;
  if (typeof details !== "object" || details === null) return undefined;
  const cached = (details as Record<string, unknown>).cached_tokens;
  return isBillableTokenCount(cached) ? cached : undefined;
}

/** The usage object of a response or chunk (`usage`, or KServe's `parameters.usage`), if it has one. */
export function usageObjectOf(body: unknown): Record<string, unknown> | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const b = body as Record<string, unknown>;
  const usage =
    b.usage ?? (typeof b.parameters === "object" && b.parameters !== null ? (b.parameters as Record<string, unknown>).usage : undefined);
  return typeof usage === "object" && usage !== null && !Array.isArray(usage) ? (usage as Record<string, unknown>) : undefined;
}
