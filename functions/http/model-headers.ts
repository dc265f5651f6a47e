/** The headers that say which model version answered (every model route sends them). */
export function versionHeaders(model: string, version: number, alias: string | undefined, fallbackFrom?: number): Record<string, string> {
  return {
    "x-model-name": model,
    "x-model-version": String(version),
    ...(alias ? { "x-model-alias": alias } : {}),
    // The alias's fallback answered: which version it stood in for.
    ...(fallbackFrom !== undefined ? { "x-model-fallback-from": String(fallbackFrom) } : {}),
  };
}
