import { InferenceSession } from "onnxruntime-node";
import { kserveTypeOf } from "./datatypes";
import { ModelLoadError } from "./errors";
import type { ModelSignature, TensorMetadata } from "./kserve";

/**
 * The model's tensors in KServe v2 metadata terms, from onnxruntime's own view of the graph
 * (session.inputMetadata/outputMetadata), so it matches exactly what the session will accept.
 */
export function signatureFromSession(session: InferenceSession): ModelSignature {
  return {
    inputs: session.inputMetadata.map(toTensorMetadata),
    outputs: session.outputMetadata.map(toTensorMetadata),
  };
}

function toTensorMetadata(meta: InferenceSession.ValueMetadata): TensorMetadata {
  if (!meta.isTensor) throw new Error(`value '${meta.name}' is not a tensor; only tensor inputs/outputs are supported`);
  const datatype = kserveTypeOf(meta.type);
  if (!datatype) throw new Error(`tensor '${meta.name}' has element type '${meta.type}' with no KServe v2 datatype`);
  // Symbolic dimensions (strings) and ORT's "unknown" (negative) both mean "any size" = -1 in KServe.
  const shape = meta.shape.map((d) => (typeof d === "number" && d >= 0 ? d : -1));
  return { name: meta.name, datatype, shape };
}

/** Loads the file just long enough to read its signature. Rejects with ModelLoadError. */
export async function readOnnxSignature(path: string): Promise<ModelSignature> {
  let session: InferenceSession;
  try {
    session = await InferenceSession.create(path);
  } catch (err) {
    throw new ModelLoadError(path, err);
  }
  try {
    return signatureFromSession(session);
  } catch (err) {
    throw new ModelLoadError(path, err);
  } finally {
    await session.release();
  }
}
