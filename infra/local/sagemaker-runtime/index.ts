export { SageMakerError, type SageMakerErrorType } from "./aws-errors";
export {
  type SageMakerRuntimeEmulator,
  type SageMakerRuntimeEmulatorOptions,
  startSageMakerRuntimeEmulator,
  type VariantTarget,
} from "./server";
