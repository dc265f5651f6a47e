import { describe, expect, it } from "@jest/globals";
import { Match } from "aws-cdk-lib/assertions";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import { synthTwoModels } from "./two-models";

// One synthesis (cdk-nag on; bundling skipped: only the template is read) shared by every assertion below.
const { stack, template } = synthTwoModels({ bundling: false });

describe("Observability and outputs (two models, three versions)", () => {
  it("has a dashboard with GPU utilization per variant and alarms on 5xx rate and latency", () => {
    const dashboard = JSON.stringify(template.findResources("AWS::CloudWatch::Dashboard"));
    for (const s of ["GPUUtilization", "ModelLatency", "mgtest-iris", "mgtest-llm", "5XXError"]) expect(dashboard).toContain(s);
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Threshold: 0.01,
      Metrics: Match.arrayWith([Match.objectLike({ Expression: "IF(requests > 0, errors / requests, 0)" })]),
    });
    template.hasResourceProperties("AWS::CloudWatch::Alarm", { MetricName: "Latency", ExtendedStatistic: "p99", Threshold: 25_000 });
  });

  it("graphs the invoke handler's EMF metrics per tenant and model with SEARCH, in the namespace it writes", () => {
    const dashboards = Object.values(template.findResources("AWS::CloudWatch::Dashboard"));
    expect(dashboards).toHaveLength(1);
    // The body is a Fn::Join of JSON text and tokens (region): stand-ins for the tokens, then parse.
    type JoinedBody = { "Fn::Join": [string, unknown[]] };
    const parts = (dashboards[0] as { Properties: { DashboardBody: JoinedBody } }).Properties.DashboardBody["Fn::Join"][1];
    const body = JSON.parse(parts.map((p) => (typeof p === "string" ? p : "TOKEN")).join("")) as {
      widgets: Array<{ properties: { title?: string; metrics?: unknown[][] } }>;
    };
    const expressionsOf = (title: string) =>
      body.widgets
        .filter((w) => w.properties.title === title)
        .flatMap((w) => w.properties.metrics ?? [])
        .map((m) => (m[0] as { expression?: string }).expression);
    // The schema names every dimension the documents carry (Powertools adds `service`), or SEARCH finds nothing.
    expect(expressionsOf("Requests by tenant")).toEqual([`SEARCH('{mgtest,service,tenant,model} MetricName="Requests"', 'Sum', 60)`]);
    expect(expressionsOf("Errors by tenant")).toEqual([
      `SEARCH('{mgtest,service,tenant,model} MetricName="Errors"', 'Sum', 60)`,
      `SEARCH('{mgtest,service,tenant,model} MetricName="ClientErrors"', 'Sum', 60)`,
    ]);
    expect(expressionsOf("Latency p50/p99 by model")).toEqual([
      `SEARCH('{mgtest,service,tenant,model} MetricName="Latency"', 'p50', 60)`,
      `SEARCH('{mgtest,service,tenant,model} MetricName="Latency"', 'p99', 60)`,
    ]);
    expect(expressionsOf("Tokens by tenant")).toHaveLength(2);
    const invokeId = stack.getLogicalId(stack.functions.invoke.function.node.defaultChild as lambda.CfnFunction);
    expect(template.toJSON().Resources[invokeId].Properties.Environment.Variables).toMatchObject({
      POWERTOOLS_METRICS_NAMESPACE: "mgtest",
      POWERTOOLS_SERVICE_NAME: "mgtest",
    });
  });

  it("outputs the API URL, bucket name and table names", () => {
    const outputs = template.toJSON().Outputs as Record<string, unknown>;
    for (const o of ["ApiUrl", "ModelBucketName", "IdentityTableName", "RegistryTableName", "UsageTableName"])
      expect(outputs).toHaveProperty(o);
  });
});
