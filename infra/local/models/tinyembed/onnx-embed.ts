import onnxProto from "onnx-proto";
import { encodeModel, intAttr, type ModelDescription, node, valueInfo } from "../onnx-graph";

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

export interface EmbedGraphSpec extends ModelDescription {
  /** [vocab][dimensions] */
  readonly table: Float32Array;
  readonly vocabSize: number;
  readonly dimensions: number;
}

/**
 * A bag-of-tokens sentence encoder as ONNX:
 *   input_ids int64 [batch, seq] -Gather(table)-> [batch, seq, D] -ReduceSum(axis 1)-> [batch, D]
 *   -LpNormalization(p=2)-> embeddings float32 [batch, D]
 * A batch must be one length (no attention mask): the runtime sends one text per row.
 */
export function encodeEmbeddingModel(spec: EmbedGraphSpec): Uint8Array {
  const raw = new Uint8Array(spec.table.length * 4);
  const view = new DataView(raw.buffer);
  for (const [i, v] of spec.table.entries()) view.setFloat32(i * 4, v, true);
  return encodeModel(spec, {
    node: [
      node("Gather", "token_vectors", ["token_table", "input_ids"], ["token_vectors"]),
      node("ReduceSum", "bag_of_tokens", ["token_vectors", "sequence_axis"], ["text_vector"], [intAttr("keepdims", 0)]),
      node("LpNormalization", "unit_length", ["text_vector"], ["embeddings"], [intAttr("axis", -1), intAttr("p", 2)]),
    ],
    initializer: [
      { name: "token_table", dims: [spec.vocabSize, spec.dimensions], dataType: FLOAT, rawData: raw },
      { name: "sequence_axis", dims: [1], dataType: INT64, int64Data: [1] },
    ],
    input: [valueInfo("input_ids", INT64, ["batch", "sequence"])],
    output: [valueInfo("embeddings", FLOAT, ["batch", spec.dimensions])],
  });
}
