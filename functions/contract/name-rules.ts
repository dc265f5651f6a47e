/**
 * The names the API, the registry, the config and the CLI all accept: one rule each, so a name
 * one accepts is never refused by another. SageMaker's own limit on resource names built from
 * them is kept by `sagemaker-names.ts`.
 */

/** A model name: a lower-case letter, then up to 47 of [a-z0-9-]. */
export const MODEL_NAME = /^[a-z][a-z0-9-]{0,47}$/;
export const MODEL_NAME_RULE = "model names match [a-z][a-z0-9-]{0,47}";

/** An alias name: a lower-case letter, then up to 31 of [a-z0-9-] (never a number, so never a version). */
export const ALIAS_NAME = /^[a-z][a-z0-9-]{0,31}$/;
export const ALIAS_NAME_RULE = "alias names match [a-z][a-z0-9-]{0,31}";
