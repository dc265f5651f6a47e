import onnxProto, { type onnx as Onnx } from "onnx-proto";
import { encodeModel, type ModelDescription, node, valueInfo } from "../onnx-graph";
import type { MlpLmWeights } from "./mlp-lm";

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const ATTR_INTS = onnx.AttributeProto.AttributeType.INTS;

export interface LmGraphSpec extends ModelDescription {
  readonly weights: MlpLmWeights;
}

/**
 * Encodes the fixed-context MLP language model as ONNX with the usual causal-LM contract:
 *   input_ids int64 [batch, seq] -Gather(embedding)-> [batch, seq, D] -Transpose-> [batch, D, seq]
 *   -Conv(kernel k, left padding k-1)-> [batch, H, seq] -Tanh-> -Transpose-> [batch, seq, H]
 *   -MatMul(W2) -Add(b2)-> logits float32 [batch, seq, vocab]
 * A causal 1-D convolution over the embeddings is exactly "W1 times the concatenated previous
 * k embeddings" at every position, and its zero padding is the zero vector the training used
 * for positions before the text start.
 */
export function encodeLmModel(spec: LmGraphSpec): Uint8Array {
  const w = spec.weights;
  const { vocabSize: V, context: K, embedding: D, hidden: H } = w.shape;
  // Conv wants [out=H][in=D][kernel=K]; training keeps W1 as row (j*D + d), column h.
  const conv = new Float32Array(H * D * K);
  for (let h = 0; h < H; h++) {
    for (let d = 0; d < D; d++) {
      for (let j = 0; j < K; j++) conv[(h * D + d) * K + j] = w.w1[(j * D + d) * H + h] as number;
    }
  }
  const initializer = [
    rawFloatTensor("embedding", [V, D], w.embedding),
    rawFloatTensor("context_weight", [H, D, K], conv),
    rawFloatTensor("context_bias", [H], w.b1),
    rawFloatTensor("output_weight", [H, V], w.w2),
    rawFloatTensor("output_bias", [V], w.b2),
  ];
  const nodes = [
    node("Gather", "embed", ["embedding", "input_ids"], ["embedded"]),
    node("Transpose", "to_channels", ["embedded"], ["channels"], [intsAttr("perm", [0, 2, 1])]),
    node(
      "Conv",
      "context_window",
      ["channels", "context_weight", "context_bias"],
      ["window"],
      [intsAttr("kernel_shape", [K]), intsAttr("pads", [K - 1, 0])],
    ),
    node("Tanh", "hidden", ["window"], ["hidden_channels"]),
    node("Transpose", "to_positions", ["hidden_channels"], ["hidden_states"], [intsAttr("perm", [0, 2, 1])]),
    node("MatMul", "unembed", ["hidden_states", "output_weight"], ["unbiased_logits"]),
    node("Add", "output_bias_add", ["unbiased_logits", "output_bias"], ["logits"]),
  ];
  return encodeModel(spec, {
    node: nodes,
    initializer,
    input: [valueInfo("input_ids", INT64, ["batch", "sequence"])],
    output: [valueInfo("logits", FLOAT, ["batch", "sequence", V])],
  });
}

function intsAttr(name: string, ints: number[]): Onnx.IAttributeProto {
  return { name, type: ATTR_INTS, ints };
}

/** raw_data is little-endian IEEE floats, the compact form ONNX exporters use for large tensors. */
function rawFloatTensor(name: string, dims: number[], values: Float32Array): Onnx.ITensorProto {
  const raw = new Uint8Array(values.length * 4);
  const view = new DataView(raw.buffer);
  for (const [i, v] of values.entries()) view.setFloat32(i * 4, v, true);
  return { name, dims, dataType: FLOAT, rawData: raw };
}
