/** A client mistake: answered with this status and `{"error": message}`, never a 500. */
export class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "RequestError";
  }
}

/** onnxruntime could not load the model file (missing, corrupt, unsupported opset…). */
export class ModelLoadError extends Error {
  constructor(
    readonly modelPath: string,
    cause: unknown,
  ) {
    super(`cannot load ONNX model '${modelPath}': ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.name = "ModelLoadError";
  }
}
