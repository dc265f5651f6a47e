import type { Tensor } from "onnxruntime-node";
import type { KServeDatatype } from "./kserve";

/** onnxruntime tensor element type for each KServe datatype this host can feed and read. */
const ORT_TYPE_OF: Readonly<Record<KServeDatatype, Tensor.Type>> = {
  BOOL: "bool",
  UINT8: "uint8",
  UINT16: "uint16",
  UINT32: "uint32",
  UINT64: "uint64",
  INT8: "int8",
  INT16: "int16",
  INT32: "int32",
  INT64: "int64",
  FP16: "float16",
  FP32: "float32",
  FP64: "float64",
  BYTES: "string",
};

const KSERVE_TYPE_OF = new Map<string, KServeDatatype>(Object.entries(ORT_TYPE_OF).map(([k, v]) => [v, k as KServeDatatype]));

export function isKServeDatatype(value: string): value is KServeDatatype {
  return Object.hasOwn(ORT_TYPE_OF, value);
}

export function ortTypeOf(datatype: KServeDatatype): Tensor.Type {
  return ORT_TYPE_OF[datatype];
}

/** undefined for ORT types with no KServe v2 equivalent (e.g. int4, complex). */
export function kserveTypeOf(ortType: string): KServeDatatype | undefined {
  return KSERVE_TYPE_OF.get(ortType);
}
