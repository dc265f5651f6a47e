// Jest's node environment, with the host's typed-array constructors instead of the sandbox's.
// Native addons (onnxruntime-node) create their arrays in the host realm, where Jest already
// takes Buffer, ArrayBuffer and Uint8Array from; without the others `data instanceof
// Float32Array` fails inside onnxruntime-common for every output tensor the addon returns.
import { TestEnvironment } from "jest-environment-node";

const TYPED_ARRAYS = [
  "Int8Array",
  "Uint8ClampedArray",
  "Int16Array",
  "Uint16Array",
  "Int32Array",
  "Uint32Array",
  "Float32Array",
  "Float64Array",
  "BigInt64Array",
  "BigUint64Array",
  "DataView",
];

export default class HostTypedArraysEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of TYPED_ARRAYS) this.global[name] = globalThis[name];
  }
}
