/**
 * KServe v2 (Open Inference Protocol) JSON shapes, as NVIDIA Triton speaks them on SageMaker.
 * https://kserve.github.io/website/latest/modelserving/data_plane/v2_protocol/
 */
export type KServeDatatype =
  | "BOOL"
  | "UINT8"
  | "UINT16"
  | "UINT32"
  | "UINT64"
  | "INT8"
  | "INT16"
  | "INT32"
  | "INT64"
  | "FP16"
  | "FP32"
  | "FP64"
  | "BYTES";

export interface TensorMetadata {
  readonly name: string;
  readonly datatype: KServeDatatype;
  /** -1 marks a dimension of any size (a symbolic ONNX dimension). */
  readonly shape: readonly number[];
}

/** The `inputs`/`outputs` part of the v2 model metadata response. */
export interface ModelSignature {
  readonly inputs: readonly TensorMetadata[];
  readonly outputs: readonly TensorMetadata[];
}

export interface InferRequestInput {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown;
  parameters?: Record<string, unknown>;
}

export interface InferRequest {
  id?: string;
  parameters?: Record<string, unknown>;
  inputs: InferRequestInput[];
  outputs?: { name: string; parameters?: Record<string, unknown> }[];
}

export interface InferResponseOutput {
  name: string;
  shape: number[];
  datatype: KServeDatatype;
  data: (number | boolean | string)[];
}

export interface InferResponse {
  model_name: string;
  model_version: string;
  id?: string;
  outputs: InferResponseOutput[];
}
