import type { InvokeRequest, InvokeResponse, ModelInvoker } from "../../../functions/core/ports";
import type { ShadowDispatcher, ShadowRequest } from "../../../functions/core/shadow";

const encoder = new TextEncoder();

/**
 * A model endpoint that answers like a KServe v2 server: JSON inference requests get one
 * output per input (its data doubled), anything else is echoed back with its content type.
 * `failing` maps a variant name to the error (one of the core's ApiErrors) its calls throw.
 */
export class MemoryModelEndpoint implements ModelInvoker {
  readonly calls: InvokeRequest[] = [];
  readonly failing = new Map<string, Error>();

  async invoke(req: InvokeRequest): Promise<InvokeResponse> {
    this.calls.push(req);
    const failure = this.failing.get(req.variantName);
    if (failure) throw failure;
    if (!/json/i.test(req.contentType)) return { body: req.body, contentType: req.contentType, invokedVariant: req.variantName };
    const request = JSON.parse(new TextDecoder().decode(req.body)) as {
      id?: string;
      inputs: { name: string; shape: number[]; datatype: string; data: number[] }[];
    };
    const answer = {
      model_name: req.endpointName,
      model_version: req.variantName,
      ...(request.id ? { id: request.id } : {}),
      outputs: request.inputs.map((i) => ({
        name: `${i.name}_out`,
        shape: i.shape,
        datatype: i.datatype,
        data: i.data.flat(4).map((d) => d * 2),
      })),
    };
    return { body: encoder.encode(JSON.stringify(answer)), contentType: "application/json", invokedVariant: req.variantName };
  }
}

/** Keeps handed-off shadow copies, so a test can run them through the shadow handler. */
export class RecordingShadowDispatcher implements ShadowDispatcher {
  readonly dispatched: ShadowRequest[] = [];

  async dispatch(req: ShadowRequest) {
    this.dispatched.push(req);
  }
}
