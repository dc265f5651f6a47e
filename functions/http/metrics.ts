import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { powertoolsSettings } from "../aws/settings";
import { ModelWakingError } from "../core/errors";
import { logger } from "./logger";

/** One finished inference request, as the per-tenant/per-model metrics see it. */
export interface InferenceMetrics {
  readonly tenantId: string;
  readonly model: string;
  readonly version?: number;
  readonly keyId: string;
  readonly requestId: string;
  /** HTTP status the client got. */
  readonly status: number;
  readonly latencyMs: number;
  /** Only when the model reported them. */
  readonly tokens?: { readonly input: number; readonly output: number };
  /** The request's cost (a decimal string), when a price applied. */
  readonly cost?: string;
  /** The client was told the model is scaling up from zero (a cold start, counted apart from errors). */
  readonly waking?: true;
}

/** Publishes one finished request's metrics; never throws (metrics must not fail a request). */
export type InferenceMetricsPublisher = (m: InferenceMetrics) => void;

/**
 * One request's publisher: who called and when, fixed; which version answered, with what
 * status and tokens, given once known. Only requests that reached version resolution call it,
 * so unknown model names never become dimensions.
 */
export function requestMetrics(
  publisher: InferenceMetricsPublisher | undefined,
  request: { readonly tenantId: string; readonly keyId: string; readonly requestId: string; readonly receivedAt: number },
): (model: string, version: number, status: number, metered?: Pick<InferenceMetrics, "tokens" | "cost">, failure?: unknown) => void {
  return (model, version, status, metered, failure) =>
    publisher?.({
      tenantId: request.tenantId,
      keyId: request.keyId,
      requestId: request.requestId,
      model,
      version,
      status,
      latencyMs: Date.now() - request.receivedAt,
      ...(metered?.tokens ? { tokens: metered.tokens } : {}),
      ...(metered?.cost !== undefined ? { cost: metered.cost } : {}),
      ...(failure instanceof ModelWakingError ? { waking: true as const } : {}),
    });
}

/**
 * The Powertools Metrics instance of a composition root. Namespace and service come from
 * POWERTOOLS_METRICS_NAMESPACE / POWERTOOLS_SERVICE_NAME (CDK sets both from the config);
 * Powertools' own POWERTOOLS_METRICS_DISABLED and POWERTOOLS_DEV switch emission off.
 */
export function powertoolsMetrics(): Metrics {
  const { serviceName, metricsNamespace } = powertoolsSettings();
  return new Metrics({
    namespace: metricsNamespace,
    // Also the constant `service` dimension Powertools adds to every document.
    serviceName,
    // Powertools' own warnings as structured log lines rather than bare console output.
    logger,
  });
}

/**
 * Emits one EMF document for one request, dimensions [service, tenant, model]: the dashboard's
 * SEARCH schemas (infra/aws/constructs/observability.ts) name exactly these. Tenant and model
 * are the only request dimensions (both bounded: tenants and registry models); ids and status
 * are metadata, kept in the log record but never turned into metrics. One instance per process
 * is safe with concurrent requests (the local host): everything from the first dimension to
 * publishStoredMetrics runs synchronously, and publishing clears dimensions and metadata.
 */
export function inferenceMetrics(metrics: Metrics): InferenceMetricsPublisher {
  return (m) => publish(metrics, m);
}

function publish(metrics: Metrics, m: InferenceMetrics): void {
  try {
    metrics.addDimensions({ tenant: m.tenantId, model: m.model });
    metrics.addMetadata("requestId", m.requestId);
    metrics.addMetadata("keyId", m.keyId);
    metrics.addMetadata("status", String(m.status));
    if (m.version !== undefined) metrics.addMetadata("version", String(m.version));
    metrics.addMetric("Requests", MetricUnit.Count, 1);
    // A waking model's 503 is a cold start, not a failure: it must not trip the error alarms.
    metrics.addMetric("Errors", MetricUnit.Count, m.status >= 500 && !m.waking ? 1 : 0);
    metrics.addMetric("ClientErrors", MetricUnit.Count, m.status >= 400 && m.status < 500 ? 1 : 0);
    if (m.waking) metrics.addMetric("ModelWaking", MetricUnit.Count, 1);
    // API Gateway's requestTimeEpoch and the function's clock can disagree by a little.
    metrics.addMetric("Latency", MetricUnit.Milliseconds, Math.max(0, m.latencyMs));
    // Powertools passes NaN through, and JSON turns it into null, which is not a metric value.
    if (m.tokens && Number.isFinite(m.tokens.input) && Number.isFinite(m.tokens.output)) {
      metrics.addMetric("InputTokens", MetricUnit.Count, m.tokens.input);
      metrics.addMetric("OutputTokens", MetricUnit.Count, m.tokens.output);
    }
    // For dashboards, in currency units: CloudWatch values are doubles. Bills come from the
    // records' exact decimal costs, never from this metric.
    if (m.cost !== undefined && Number.isFinite(Number(m.cost))) metrics.addMetric("Cost", MetricUnit.NoUnit, Number(m.cost));
    metrics.publishStoredMetrics();
  } catch (err) {
    // A half-built document must not carry this request's dimensions into the next one.
    metrics.clearMetrics();
    metrics.clearDimensions();
    metrics.clearMetadata();
    logger.warn("inference metrics not published", { requestId: m.requestId, error: err as Error });
  }
}
