export { isEmbeddingModelDir } from "./embed/engine";
export { type EmbeddingModelHost, type EmbeddingModelHostOptions, startEmbeddingModelHost } from "./embed/server";
export { ModelLoadError } from "./errors";
export type { InferRequest, InferResponse, KServeDatatype, ModelSignature, TensorMetadata } from "./kserve";
export { type LlmModelHost, type LlmModelHostOptions, startLlmModelHost } from "./llm/server";
export { DEFAULT_MAX_BODY_BYTES, type ModelHost, type ModelHostOptions, startOnnxModelHost } from "./server";
export { readOnnxSignature } from "./signature";
