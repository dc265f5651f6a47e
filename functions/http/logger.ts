import { Logger } from "@aws-lambda-powertools/logger";
import { powertoolsSettings } from "../aws/settings";
import type { RejectedTokens } from "../core/inference";

/** One Powertools logger per process; service name and level come from POWERTOOLS_* env. */
export const logger = new Logger({ serviceName: powertoolsSettings().serviceName });

/** How a handler reports token counts a model sent that were not billed (they are ignored). */
export function warnRejectedTokens(r: RejectedTokens): void {
  // The report itself, bounded: a hostile container could send megabytes of it.
  const reported = JSON.stringify(r.usage)?.slice(0, 500);
  logger.warn("model reported token counts that cannot be billed; ignored", {
    requestId: r.requestId,
    model: r.model,
    version: r.version,
    reported,
  });
}
