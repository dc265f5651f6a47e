import onnxProto, { type onnx as Onnx } from "onnx-proto";
import type { Classifier } from "./classifier";

// onnx-proto is CommonJS (module.exports = root), so the runtime namespace comes off the default export.
const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const ATTR_INT = onnx.AttributeProto.AttributeType.INT;

/** IR version 8 + opset 17: both well inside what onnxruntime 1.30 loads. */
export const IR_VERSION = 8;
export const OPSET = 17;

/** What every local model file says of itself besides its graph. */
export interface ModelDescription {
  readonly graphName: string;
  readonly docString: string;
  /** Written in order, so the file bytes do not depend on object key order. */
  readonly metadata: readonly (readonly [string, string])[];
}

export interface ClassifierGraphSpec extends ModelDescription {
  readonly classifier: Classifier;
  readonly inputName: string;
  readonly probabilitiesName: string;
  readonly labelName: string;
  readonly modelVersion: number;
}

/** A graph as an ONNX model file: the IR version and opset every local model uses, and its description. */
export function encodeModel(description: ModelDescription, graph: Omit<Onnx.IGraphProto, "name">, modelVersion = 1): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: "", version: OPSET }],
    producerName: "modelgate",
    modelVersion,
    docString: description.docString,
    metadataProps: description.metadata.map(([key, value]) => ({ key, value })),
    graph: { name: description.graphName, ...graph },
  });
  return onnx.ModelProto.encode(model).finish();
}

/**
 * Encodes a Classifier as an ONNX ModelProto:
 *   input [batch, F] -(Sub mean, Div std)-> (Gemm [-> Tanh])* -> logits
 *   logits -Softmax(axis=-1)-> probabilities [batch, C]
 *   logits -ArgMax(axis=1, keepdims=0)-> label [batch] (int64)
 * The batch dimension is symbolic so any number of rows can be sent at once.
 */
export function encodeClassifierModel(spec: ClassifierGraphSpec): Uint8Array {
  const { classifier } = spec;
  const featureCount = classifier.layers[0]?.weights.length ?? 0;
  const classCount = classifier.layers.at(-1)?.bias.length ?? 0;
  const nodes: Onnx.INodeProto[] = [];
  const initializers: Onnx.ITensorProto[] = [];
  let current = spec.inputName;

  if (classifier.standardization) {
    const { mean, std } = classifier.standardization;
    initializers.push(floatTensor("feature_mean", [featureCount], mean));
    initializers.push(floatTensor("feature_std", [featureCount], std));
    nodes.push(node("Sub", "standardize_center", [current, "feature_mean"], ["centered"]));
    nodes.push(node("Div", "standardize_scale", ["centered", "feature_std"], ["standardized"]));
    current = "standardized";
  }

  classifier.layers.forEach((layer, k) => {
    const w = `dense${k}_weight`;
    const b = `dense${k}_bias`;
    initializers.push(floatTensor(w, [layer.weights.length, layer.bias.length], layer.weights.flat()));
    initializers.push(floatTensor(b, [layer.bias.length], layer.bias));
    const isLast = k === classifier.layers.length - 1;
    const z = isLast ? "logits" : `dense${k}_z`;
    nodes.push(node("Gemm", `dense${k}`, [current, w, b], [z]));
    current = z;
    if (layer.activation === "tanh") {
      nodes.push(node("Tanh", `dense${k}_tanh`, [z], [`dense${k}_h`]));
      current = `dense${k}_h`;
    }
  });

  nodes.push(node("Softmax", "softmax", [current], [spec.probabilitiesName], [intAttr("axis", -1)]));
  nodes.push(node("ArgMax", "argmax", [current], [spec.labelName], [intAttr("axis", 1), intAttr("keepdims", 0)]));

  return encodeModel(
    spec,
    {
      node: nodes,
      initializer: initializers,
      input: [valueInfo(spec.inputName, FLOAT, ["batch", featureCount])],
      output: [valueInfo(spec.probabilitiesName, FLOAT, ["batch", classCount]), valueInfo(spec.labelName, INT64, ["batch"])],
    },
    spec.modelVersion,
  );
}

export function node(
  opType: string,
  name: string,
  input: string[],
  output: string[],
  attribute: Onnx.IAttributeProto[] = [],
): Onnx.INodeProto {
  return { opType, name, input, output, attribute };
}

export function intAttr(name: string, i: number): Onnx.IAttributeProto {
  return { name, type: ATTR_INT, i };
}

export function floatTensor(name: string, dims: number[], values: readonly number[]): Onnx.ITensorProto {
  return { name, dims, dataType: FLOAT, floatData: values.slice() };
}

/** A tensor value-info; string dims are symbolic (dim_param), numbers are fixed. */
export function valueInfo(name: string, elemType: number, dims: (string | number)[]): Onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === "string" ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}
