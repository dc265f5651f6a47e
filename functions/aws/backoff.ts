/**
 * Waits before retry `attempt` (1-based) of a write DynamoDB turned away (throttling,
 * transaction conflicts): exponential from `baseMs`, capped at a second, with full-half jitter
 * so writers that collided do not collide again in step.
 */
export function backoff(attempt: number, baseMs = 10): Promise<void> {
  const ms = Math.min(1000, baseMs * 2 ** attempt) * (0.5 + Math.random() / 2);
  return new Promise((r) => setTimeout(r, ms));
}
