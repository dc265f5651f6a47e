import { Duration } from "aws-cdk-lib";
import type * as apigw from "aws-cdk-lib/aws-apigateway";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type * as sns from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import type { InferenceComponent } from "./inference-component";
import type { ModelEndpoint } from "./model-endpoint";

/** A pool endpoint and the components placed on it, as the dashboard and alarms see them. */
export interface ObservedPool {
  readonly endpointName: string;
  readonly components: readonly InferenceComponent[];
}

export interface ObservabilityProps {
  readonly dashboardName: string;
  readonly api: apigw.RestApi;
  readonly endpoints: readonly ModelEndpoint[];
  /** Pool endpoints with their inference components. @default none */
  readonly pools?: readonly ObservedPool[];
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** Alarm when more than this fraction of requests end in 5xx (5-minute windows). @default 0.01 */
  readonly errorRateThreshold?: number;
  /** Alarm when p99 API latency exceeds this many milliseconds. @default 10000 */
  readonly latencyThresholdMs?: number;
  /** Where alarms notify. @default no action */
  readonly alarmTopic?: sns.ITopic;
  /**
   * CloudWatch namespace of the handlers' EMF metrics (POWERTOOLS_METRICS_NAMESPACE).
   * @default "modelgate"
   */
  readonly metricsNamespace?: string;
}

/**
 * A dashboard (API requests, errors and latency; requests, errors, latency and tokens per
 * tenant and model from the invoke handler's EMF metrics; per model: invocations, errors, model latency
 * and GPU utilization per variant; per pool: invocations, errors, model latency and wake-ups
 * (NoCapacityInvocationFailures) per component; handler errors and duration) and alarms on the
 * API's 5xx rate and p99 latency and on each endpoint's (and pool's) model errors.
 */
export class Observability extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const { api } = props;
    const period = Duration.minutes(1);

    const serverErrorRate = new cloudwatch.MathExpression({
      expression: "IF(requests > 0, errors / requests, 0)",
      usingMetrics: {
        errors: api.metricServerError({ statistic: "Sum", period: Duration.minutes(5) }),
        requests: api.metricCount({ statistic: "Sum", period: Duration.minutes(5) }),
      },
      label: "5xx rate",
      period: Duration.minutes(5),
    });
    this.alarms.push(
      serverErrorRate.createAlarm(this, "ServerErrorRate", {
        alarmDescription: "More than the allowed share of API requests ended in 5xx",
        threshold: props.errorRateThreshold ?? 0.01,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      api.metricLatency({ statistic: "p99", period: Duration.minutes(5) }).createAlarm(this, "LatencyP99", {
        alarmDescription: "API p99 latency above threshold",
        threshold: props.latencyThresholdMs ?? 10_000,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
    const modelErrors = [
      ...props.endpoints.map((ep) => ({
        endpointName: ep.endpointName,
        errors: ep.variants.map((v) => ep.metric("Invocation5XXErrors", v.variantName, { statistic: "Sum", period: Duration.minutes(5) })),
      })),
      ...(props.pools ?? []).map((p) => ({
        endpointName: p.endpointName,
        errors: p.components.map((c) => c.metric("Invocation5XXErrors", { statistic: "Sum", period: Duration.minutes(5) })),
      })),
    ];
    for (const ep of modelErrors) {
      const { errors } = ep;
      const total =
        errors.length === 1
          ? (errors[0] as cloudwatch.Metric)
          : new cloudwatch.MathExpression({
              expression: errors.map((_, i) => `e${i}`).join(" + "),
              usingMetrics: Object.fromEntries(errors.map((m, i) => [`e${i}`, m])),
              period: Duration.minutes(5),
              label: `${ep.endpointName} 5xx`,
            });
      this.alarms.push(
        total.createAlarm(this, `ModelErrors-${ep.endpointName}`, {
          alarmDescription: `${ep.endpointName}: model containers returned 5xx`,
          threshold: 5,
          evaluationPeriods: 3,
          datapointsToAlarm: 2,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    }
    if (props.alarmTopic) {
      for (const a of this.alarms) a.addAlarmAction(new actions.SnsAction(props.alarmTopic));
    }

    this.dashboard = new cloudwatch.Dashboard(this, "Dashboard", { dashboardName: props.dashboardName });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: "API requests",
        left: [api.metricCount({ period, statistic: "Sum" })],
        right: [api.metricClientError({ period, statistic: "Sum" }), api.metricServerError({ period, statistic: "Sum" })],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: "API latency (ms)",
        left: ["p50", "p90", "p99"].map((s) => api.metricLatency({ period, statistic: s })),
        right: [api.metricIntegrationLatency({ period, statistic: "p99" })],
        width: 8,
      }),
      new cloudwatch.GraphWidget({ title: "API 5xx rate", left: [serverErrorRate], width: 8 }),
    );
    this.dashboard.addWidgets(...tenantWidgets(props.metricsNamespace ?? "modelgate", period));
    for (const ep of props.endpoints) {
      const variants = ep.variants.map((v) => v.variantName);
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: `${ep.endpointName}: invocations and errors`,
          left: variants.map((v) => ep.metric("Invocations", v, { statistic: "Sum", label: `${v} invocations` })),
          right: variants.flatMap((v) => [
            ep.metric("Invocation4XXErrors", v, { statistic: "Sum", label: `${v} 4xx` }),
            ep.metric("Invocation5XXErrors", v, { statistic: "Sum", label: `${v} 5xx` }),
          ]),
          width: 8,
        }),
        new cloudwatch.GraphWidget({
          title: `${ep.endpointName}: model latency p99 (µs)`,
          left: variants.map((v) => ep.metric("ModelLatency", v, { statistic: "p99", label: v })),
          width: 8,
        }),
        new cloudwatch.GraphWidget({
          title: `${ep.endpointName}: GPU utilization (%)`,
          left: variants.map((v) => ep.metricGpuUtilization(v).with({ label: `${v} GPU` })),
          right: variants.map((v) =>
            ep.metric("GPUMemoryUtilization", v, { statistic: "Average", label: `${v} GPU memory` }, "/aws/sagemaker/Endpoints"),
          ),
          width: 8,
        }),
      );
    }
    for (const pool of props.pools ?? []) {
      const label = (c: InferenceComponent, what: string) => `${c.componentName} ${what}`;
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: `${pool.endpointName}: invocations and errors`,
          left: pool.components.map((c) => c.metric("Invocations", { statistic: "Sum", label: label(c, "invocations") })),
          right: pool.components.flatMap((c) => [
            c.metric("Invocation4XXErrors", { statistic: "Sum", label: label(c, "4xx") }),
            c.metric("Invocation5XXErrors", { statistic: "Sum", label: label(c, "5xx") }),
          ]),
          width: 8,
        }),
        new cloudwatch.GraphWidget({
          title: `${pool.endpointName}: model latency p99 (µs)`,
          left: pool.components.map((c) => c.metric("ModelLatency", { statistic: "p99", label: c.componentName })),
          width: 8,
        }),
        new cloudwatch.GraphWidget({
          title: `${pool.endpointName}: requests that found no copy (waking from zero)`,
          left: pool.components.map((c) => c.metricNoCapacityInvocationFailures().with({ label: c.componentName })),
          width: 8,
        }),
      );
    }
    const fns = Object.entries(props.functions);
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: "Handler errors",
        left: fns.map(([name, fn]) => fn.metricErrors({ period, statistic: "Sum", label: name })),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: "Handler duration p99 (ms)",
        left: fns.map(([name, fn]) => fn.metricDuration({ period, statistic: "p99", label: name })),
        width: 12,
      }),
    );
  }
}

/**
 * Per-tenant/per-model widgets over functions/http/metrics.ts's documents. SEARCH finds each
 * tenant × model series as it appears (no deploy per tenant); its schema must list exactly the
 * dimensions the documents carry, Powertools' constant `service` included, or it matches nothing.
 */
function tenantWidgets(namespace: string, period: Duration): cloudwatch.IWidget[] {
  // Schema names with anything but letters and digits (platform names have dashes) need quotes.
  const ns = /^[A-Za-z0-9]+$/.test(namespace) ? namespace : `"${namespace}"`;
  // The label prefixes each series' own label (its tenant and model values).
  const search = (metricName: string, statistic: string, label: string) =>
    new cloudwatch.SearchExpression({
      expression: `SEARCH('{${ns},service,tenant,model} MetricName="${metricName}"', '${statistic}', ${period.toSeconds()})`,
      label,
      period,
    });
  return [
    new cloudwatch.GraphWidget({ title: "Requests by tenant", left: [search("Requests", "Sum", "requests")], width: 6 }),
    new cloudwatch.GraphWidget({
      title: "Errors by tenant",
      left: [search("Errors", "Sum", "5xx")],
      right: [search("ClientErrors", "Sum", "4xx")],
      width: 6,
    }),
    // Per tenant × model: percentiles of different tenants cannot be combined into one per model.
    new cloudwatch.GraphWidget({
      title: "Latency p50/p99 by model",
      left: [search("Latency", "p50", "p50"), search("Latency", "p99", "p99")],
      leftYAxis: { label: "ms", showUnits: false },
      width: 6,
    }),
    new cloudwatch.GraphWidget({
      title: "Tokens by tenant",
      left: [search("InputTokens", "Sum", "input"), search("OutputTokens", "Sum", "output")],
      width: 6,
    }),
  ];
}
