import { BadRequestError } from "./errors";

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

function flatLength(data: unknown): number {
  if (!Array.isArray(data)) return 1;
  let n = 0;
  for (const d of data) n += flatLength(d);
  return n;
}

export function validateInferRequest(body: unknown): void {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new BadRequestError("inference request must be a JSON object");
  const inputs = (body as { inputs?: unknown }).inputs;
  if (!Array.isArray(inputs) || inputs.length === 0) throw new BadRequestError("'inputs' must be a non-empty array");
  inputs.forEach((input: unknown, i) => {
    const at = `inputs[${i}]`;
    if (typeof input !== "object" || input === null) throw new BadRequestError(`${at} must be an object`);
    const { name, shape, datatype, data } = input as Record<string, unknown>;
    if (typeof name !== "string" || !name) throw new BadRequestError(`${at}.name must be a non-empty string`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new BadRequestError(`${at}.shape must be an array of non-negative integers`);
    }
    if (typeof datatype !== "string" || !DATATYPES.has(datatype)) throw new BadRequestError(`${at}.datatype must be a KServe v2 datatype`);
    if (!Array.isArray(data)) throw new BadRequestError(`${at}.data must be an array`);
    const expected = (shape as number[]).reduce((a, b) => a * b, 1);
    const actual = flatLength(data);
    if (expected !== actual) throw new BadRequestError(`${at}: shape [${shape.join(",")}] needs ${expected} elements, data has ${actual}`);
  });
}

/** Token counts a model reported, when it did (KServe parameters or an LLM usage object). */
export function reportedTokens(body: unknown): { input: number; output: number } | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const b = body as Record<string, unknown>;
  const usage = (b.usage ?? (b.parameters as Record<string, unknown> | undefined)?.usage) as Record<string, unknown> | undefined;
  if (!usage || typeof usage !== "object") return undefined;
  const input = Number(usage.prompt_tokens ?? usage.input_tokens ?? 0);
  const output = Number(usage.completion_tokens ?? usage.output_tokens ?? 0);
  if (!Number.isFinite(input) || !Number.isFinite(output) || (input === 0 && output === 0)) return undefined;
  return { input, output };
}
