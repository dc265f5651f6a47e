export { SageMakerError, type SageMakerErrorType } from "./aws-errors";
export type { ComponentCopies } from "./components";
export {
  type ComponentLease,
  type ComponentSnapshot,
  type ComponentTarget,
  type SageMakerRuntimeEmulator,
  type SageMakerRuntimeEmulatorOptions,
  startSageMakerRuntimeEmulator,
  type VariantTarget,
} from "./server";
