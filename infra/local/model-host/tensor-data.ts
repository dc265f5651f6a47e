import { Tensor } from "onnxruntime-node";
import { RequestError } from "./errors";
import type { KServeDatatype } from "./kserve";

/** KServe allows `data` flat (row-major) or nested like the shape; both flatten to the same order. */
export function flattenData(data: unknown): unknown[] {
  if (!Array.isArray(data)) return [data];
  if (!data.some(Array.isArray)) return data;
  const out: unknown[] = [];
  const stack: unknown[] = [data];
  // Iterative depth-first walk: no recursion limit on deeply nested client input.
  const cursors: number[] = [0];
  while (stack.length > 0) {
    const top = stack.at(-1) as unknown[];
    const i = cursors.at(-1) as number;
    if (i >= top.length) {
      stack.pop();
      cursors.pop();
      continue;
    }
    cursors[cursors.length - 1] = i + 1;
    const item = top[i];
    if (Array.isArray(item)) {
      stack.push(item);
      cursors.push(0);
    } else out.push(item);
  }
  return out;
}

const INT_RANGES: Partial<Record<KServeDatatype, readonly [number, number]>> = {
  INT8: [-128, 127],
  UINT8: [0, 255],
  INT16: [-32768, 32767],
  UINT16: [0, 65535],
  INT32: [-2147483648, 2147483647],
  UINT32: [0, 4294967295],
};

/** Converts validated-length JSON values to an onnxruntime tensor; a bad element is a 400. */
export function toTensor(name: string, datatype: KServeDatatype, values: unknown[], dims: number[]): Tensor {
  const bad = (index: number, expected: string): never => {
    throw new RequestError(
      400,
      `input '${name}' element ${index} is ${JSON.stringify(values[index])}, expected ${expected} for datatype ${datatype}`,
    );
  };
  switch (datatype) {
    case "FP32":
    case "FP64": {
      const arr = datatype === "FP32" ? new Float32Array(values.length) : new Float64Array(values.length);
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (typeof v !== "number") bad(i, "a number");
        arr[i] = v as number;
      }
      return new Tensor(datatype === "FP32" ? "float32" : "float64", arr, dims);
    }
    case "INT8":
    case "UINT8":
    case "INT16":
    case "UINT16":
    case "INT32":
    case "UINT32": {
      const [min, max] = INT_RANGES[datatype] as readonly [number, number];
      const arr = intArray(datatype, values.length);
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) bad(i, `an integer in [${min}, ${max}]`);
        arr[i] = v as number;
      }
      return new Tensor(datatype.toLowerCase() as "int8", arr, dims);
    }
    case "INT64":
    case "UINT64": {
      const arr = datatype === "INT64" ? new BigInt64Array(values.length) : new BigUint64Array(values.length);
      const [min, max] = datatype === "INT64" ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, 2n ** 64n - 1n];
      for (let i = 0; i < values.length; i++) {
        const big = toBigInt(values[i]);
        if (big === undefined || big < min || big > max) bad(i, "an integer (number or decimal string)");
        arr[i] = big as bigint;
      }
      return new Tensor(datatype === "INT64" ? "int64" : "uint64", arr, dims);
    }
    case "BOOL": {
      const arr = new Uint8Array(values.length);
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (typeof v !== "boolean") bad(i, "true or false");
        arr[i] = v ? 1 : 0;
      }
      return new Tensor("bool", arr, dims);
    }
    case "BYTES": {
      for (let i = 0; i < values.length; i++) if (typeof values[i] !== "string") bad(i, "a string");
      return new Tensor("string", values as string[], dims);
    }
    case "FP16":
      // onnxruntime-node wants raw IEEE half bits for float16; no JSON number conversion is done here.
      throw new RequestError(400, `input '${name}': datatype FP16 is not supported by this model host`);
  }
}

function intArray(datatype: KServeDatatype, length: number): Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array {
  switch (datatype) {
    case "INT8":
      return new Int8Array(length);
    case "UINT8":
      return new Uint8Array(length);
    case "INT16":
      return new Int16Array(length);
    case "UINT16":
      return new Uint16Array(length);
    case "INT32":
      return new Int32Array(length);
    default:
      return new Uint32Array(length);
  }
}

/** JSON numbers lose precision past 2^53, so 64-bit integers may also arrive as decimal strings. */
function toBigInt(v: unknown): bigint | undefined {
  if (typeof v === "number") return Number.isInteger(v) ? BigInt(v) : undefined;
  if (typeof v === "string" && /^-?\d+$/.test(v)) return BigInt(v);
  return undefined;
}

/** onnxruntime output data → JSON-ready values (64-bit integers become numbers, bools booleans). */
export function tensorToJson(tensor: Tensor): (number | boolean | string)[] {
  const data = tensor.data;
  if (tensor.type === "bool") return Array.from(data as Uint8Array, (v) => v !== 0);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Array.from(data, Number);
  return Array.from(data as ArrayLike<number | string>);
}
