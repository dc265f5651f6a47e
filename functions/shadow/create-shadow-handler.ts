import { z } from "zod";
import { UPSTREAM_ROUTES } from "../contract/upstream-route";
import { runShadow, type ShadowDeps } from "../core/shadow";
import { logger } from "../http/logger";

const shadowEvent = z.strictObject({
  requestId: z.string().min(1).max(200),
  receivedAt: z.number().int(),
  tenantId: z.string().min(1),
  keyId: z.string().min(1),
  model: z.string().min(1),
  alias: z.string().min(1),
  version: z.number().int().min(1),
  endpointName: z.string().min(1),
  variantName: z.string().min(1),
  inferenceComponentName: z.string().min(1).optional(),
  body: z.string(),
  contentType: z.string().min(1),
  accept: z.string().optional(),
  route: z.enum(UPSTREAM_ROUTES).optional(),
});

/**
 * Runs shadow copies handed off by the invoke function (asynchronous invocation). The answer
 * is discarded; the usage record is the point. A record that cannot be written throws, so
 * Lambda's async retries try again (the record is idempotent by request id).
 */
export function createShadowHandler(deps: ShadowDeps): (event: unknown) => Promise<void> {
  return async (event) => {
    const parsed = shadowEvent.safeParse(event);
    if (!parsed.success) {
      logger.error("malformed shadow event dropped", { issue: parsed.error.issues[0]?.message });
      return;
    }
    const { accept, inferenceComponentName, ...req } = parsed.data;
    const outcome = await runShadow(deps, {
      ...req,
      ...(accept ? { accept } : {}),
      ...(inferenceComponentName ? { inferenceComponentName } : {}),
    });
    logger.info("shadow", { requestId: req.requestId, model: req.model, version: req.version, ...outcome });
  };
}
