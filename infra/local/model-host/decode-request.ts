import type { Tensor } from "onnxruntime-node";
import { isKServeDatatype } from "./datatypes";
import { RequestError } from "./errors";
import type { ModelSignature, TensorMetadata } from "./kserve";
import { flattenData, toTensor } from "./tensor-data";

export interface DecodedRequest {
  readonly id: string | undefined;
  readonly feeds: Record<string, Tensor>;
  /** The outputs to compute and return, in the order asked (all of them when none asked). */
  readonly outputNames: readonly string[];
}

/**
 * Validates a KServe v2 JSON inference request against the model signature and builds the
 * onnxruntime feeds. Every client mistake becomes a RequestError(400) with a clear message,
 * so onnxruntime never sees input it would reject.
 */
export function decodeInferRequest(body: string, signature: ModelSignature): DecodedRequest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    throw new RequestError(400, `request body is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(parsed)) throw new RequestError(400, "request body must be a JSON object");
  const { id, inputs, outputs } = parsed;
  if (id !== undefined && typeof id !== "string") throw new RequestError(400, "'id' must be a string");
  if (!Array.isArray(inputs) || inputs.length === 0) {
    throw new RequestError(400, "'inputs' must be a non-empty array of {name, shape, datatype, data}");
  }

  const feeds: Record<string, Tensor> = {};
  for (const [index, input] of inputs.entries()) {
    if (!isObject(input)) throw new RequestError(400, `inputs[${index}] must be an object`);
    const name = input.name;
    if (typeof name !== "string") throw new RequestError(400, `inputs[${index}].name must be a string`);
    const expected = signature.inputs.find((t) => t.name === name);
    if (!expected) {
      throw new RequestError(400, `unknown input '${name}'; the model's inputs are: ${names(signature.inputs)}`);
    }
    if (Object.hasOwn(feeds, name)) throw new RequestError(400, `input '${name}' is given more than once`);
    feeds[name] = decodeInput(input, expected);
  }
  const missing = signature.inputs.filter((t) => !Object.hasOwn(feeds, t.name));
  if (missing.length > 0) throw new RequestError(400, `missing input(s): ${names(missing)}`);

  return { id, feeds, outputNames: decodeRequestedOutputs(outputs, signature) };
}

function decodeInput(input: Record<string, unknown>, expected: TensorMetadata): Tensor {
  const { name, datatype, shape, data } = input as { name: string; datatype: unknown; shape: unknown; data: unknown };
  if (typeof datatype !== "string" || !isKServeDatatype(datatype)) {
    throw new RequestError(400, `input '${name}' has unknown datatype ${JSON.stringify(datatype)}`);
  }
  if (datatype !== expected.datatype) {
    throw new RequestError(400, `input '${name}' has datatype ${datatype} but the model expects ${expected.datatype}`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new RequestError(400, `input '${name}' shape must be an array of non-negative integers`);
  }
  const dims = shape as number[];
  const fits = dims.length === expected.shape.length && dims.every((d, i) => expected.shape[i] === -1 || expected.shape[i] === d);
  if (!fits) {
    throw new RequestError(
      400,
      `input '${name}' has shape [${dims.join(",")}] but the model expects [${expected.shape.join(",")}] (-1 = any size)`,
    );
  }
  if (data === undefined) throw new RequestError(400, `input '${name}' has no 'data'`);
  const values = flattenData(data);
  const count = dims.reduce((a, b) => a * b, 1);
  if (values.length !== count) {
    throw new RequestError(400, `input '${name}' has ${values.length} element(s) but shape [${dims.join(",")}] needs ${count}`);
  }
  return toTensor(name, datatype, values, dims);
}

function decodeRequestedOutputs(outputs: unknown, signature: ModelSignature): string[] {
  const all = signature.outputs.map((t) => t.name);
  if (outputs === undefined || (Array.isArray(outputs) && outputs.length === 0)) return all;
  if (!Array.isArray(outputs)) throw new RequestError(400, "'outputs' must be an array of {name}");
  const wanted: string[] = [];
  for (const [index, output] of outputs.entries()) {
    const name = isObject(output) ? output.name : undefined;
    if (typeof name !== "string") throw new RequestError(400, `outputs[${index}].name must be a string`);
    if (!all.includes(name)) {
      throw new RequestError(400, `unknown output '${name}'; the model's outputs are: ${all.join(", ")}`);
    }
    if (!wanted.includes(name)) wanted.push(name);
  }
  return wanted;
}

function names(tensors: readonly TensorMetadata[]): string {
  return tensors.map((t) => `${t.name} (${t.datatype} [${t.shape.join(",")}])`).join(", ");
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
