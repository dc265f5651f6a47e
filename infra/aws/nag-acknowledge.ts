import { Stack, Validations } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type { IConstruct } from "constructs";

/*
 * How this stack acknowledges cdk-nag findings: one finding per call, on the construct it
 * concerns, with its reason (cdk-nag v3 acknowledges `AwsSolutions-IAM5[Resource::…]` one by
 * one), so a new wildcard or a new resource is never covered by an old acknowledgement.
 */

export interface WildcardReason {
  /** Matched against the finding, e.g. `Resource::*` or `Action::s3:GetObject*`. */
  readonly finding: RegExp;
  readonly reason: string;
}

/** How cdk-nag renders a CloudFormation value in a finding id (its flattenCfnReference). */
export function flattenCfnReference(node: unknown): string {
  if (node === undefined) return "";
  if (typeof node === "string") return node.replace(/\$\{/g, "<").replace(/}/g, ">");
  if (typeof node === "object" && node !== null) {
    const o = node as Record<string, unknown>;
    if (Array.isArray(o["Fn::Join"])) {
      const [delimiter, items] = o["Fn::Join"] as [string, unknown[]];
      return items.map(flattenCfnReference).join(delimiter);
    }
    if (o["Fn::Sub"] !== undefined) return flattenCfnReference(o["Fn::Sub"]);
    if (Array.isArray(o["Fn::GetAtt"])) {
      const [resource, attribute] = o["Fn::GetAtt"] as [unknown, unknown];
      return `<${flattenCfnReference(resource)}.${flattenCfnReference(attribute)}>`;
    }
    if (o["Fn::ImportValue"] !== undefined) return flattenCfnReference(o["Fn::ImportValue"]);
    if (o.Ref !== undefined) return `<${flattenCfnReference(o.Ref)}>`;
  }
  return JSON.stringify(node);
}

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** The AwsSolutions-IAM5 findings of one policy document, as cdk-nag computes them. */
export function wildcardFindings(document: unknown): string[] {
  const found = new Set<string>();
  const statements = asArray((document as { Statement?: unknown[] } | undefined)?.Statement) as Array<Record<string, unknown>>;
  for (const st of statements) {
    if (st.Effect !== "Allow") continue;
    for (const a of asArray(st.Action as string | string[])) if (a.includes("*")) found.add(`Action::${a}`);
    for (const r of asArray(st.Resource as unknown)) {
      const flat = flattenCfnReference(r);
      if (flat.includes("*")) found.add(`Resource::${flat}`);
    }
  }
  return [...found];
}

/**
 * Acknowledges each wildcard in the IAM policies under `scope` with the first matching reason.
 * A wildcard no reason matches throws: it has to be looked at, not waved through.
 */
export function acknowledgeWildcards(scope: IConstruct, reasons: readonly WildcardReason[]): void {
  const stack = Stack.of(scope);
  for (const node of scope.node.findAll()) {
    if (!(node instanceof iam.CfnPolicy)) continue;
    for (const finding of wildcardFindings(stack.resolve(node.policyDocument))) {
      const match = reasons.find((r) => r.finding.test(finding));
      if (!match) throw new Error(`no acknowledgement reason for AwsSolutions-IAM5[${finding}] at ${node.node.path}`);
      Validations.of(node).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason: match.reason });
    }
  }
}

/** Acknowledges one finding on `scope`, with its reason. */
export function ack(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

// A pseudo parameter as cdk-nag renders it, or its value when the stack's environment is known.
export const PARTITION = "(<AWS::Partition>|aws[a-z-]*)";
export const REGION = "(<AWS::Region>|[a-z0-9-]+)";
export const ACCOUNT = "(<AWS::AccountId>|\\d{12})";

/**
 * What every aws-cdk-lib BucketDeployment function brings (its singleton Lambda, which runs only
 * at deploy): the managed logging policy, a runtime CDK pins, no DLQ or tracing setting; and the
 * asset bucket's content-addressed key. `what` names the files it deploys; `grants` are the
 * wildcards of its destination, each with its own reason.
 */
export function acknowledgeBucketDeployment(upload: IConstruct, what: string, grants: readonly WildcardReason[]): void {
  ack(
    upload,
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
    `aws-cdk-lib BucketDeployment function role (${what}); the managed policy only allows writing its own logs.`,
  );
  acknowledgeWildcards(upload, [
    ...grants,
    {
      finding: new RegExp(`^Resource::arn:${PARTITION}:s3:::cdk-[a-z0-9]+-assets-.+/\\*$`),
      reason: `Reads the deployment's zip (${what}) from the CDK bootstrap asset bucket; the object key is content-addressed and only known at publish time.`,
    },
  ]);
  ack(upload, "AwsSolutions-L1", "aws-cdk-lib pins the BucketDeployment function's (Python) runtime; it runs only at deploy.");
  ack(
    upload,
    "Serverless-LambdaLatestVersion",
    "aws-cdk-lib pins the BucketDeployment function's (Python) runtime; it runs only at deploy.",
  );
  ack(upload, "Serverless-LambdaDLQ", "Invoked synchronously by CloudFormation at deploy; a failure fails the deployment.");
  ack(upload, "Serverless-LambdaTracing", "aws-cdk-lib's BucketDeployment exposes no tracing setting; it runs only at deploy.");
}
