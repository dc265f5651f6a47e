import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import { Match } from "aws-cdk-lib/assertions";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import { sortedByJson } from "./fixtures";
import { synthTwoModels } from "./two-models";

// One synthesis (cdk-nag on, handlers bundled by esbuild: the bundles are checked) shared by every assertion below.
const { stack, template, assemblyDir, bucketId, tableId, policyOf, roleIdOf, permissionsOf } = synthTwoModels();

describe("PlatformFunction handlers (two models, three versions)", () => {
  it("bundles each handler with esbuild into minified ESM with a source map, Node.js 24 on arm64, traced", () => {
    for (const [name, f] of Object.entries(stack.functions)) {
      const cfn = f.function.node.defaultChild as lambda.CfnFunction;
      const code0 = template.toJSON().Resources[stack.getLogicalId(cfn)].Properties.Code as { S3Key: string };
      const assetDir = join(assemblyDir, `asset.${code0.S3Key.replace(/\.zip$/, "")}`);
      expect({ name, sourceMap: existsSync(join(assetDir, "index.mjs.map")) }).toEqual({ name, sourceMap: true });
      const code = readFileSync(join(assetDir, "index.mjs"), "utf8");
      const charsPerLine = code.length / code.split("\n").length;
      expect({ name, charsPerLine, minified: charsPerLine > 1000 }).toMatchObject({ minified: true });
    }
    template.hasResourceProperties("AWS::Lambda::Function", {
      Runtime: "nodejs24.x",
      Architectures: ["arm64"],
      Handler: "index.handler",
      TracingConfig: { Mode: "Active" },
      Environment: {
        Variables: Match.objectLike({
          IDENTITY_TABLE: "mgtest-identity",
          REGISTRY_TABLE: "mgtest-registry",
          USAGE_TABLE: "mgtest-usage",
          POWERTOOLS_SERVICE_NAME: "mgtest",
          POWERTOOLS_LOG_LEVEL: "INFO",
          MAX_BODY_BYTES: String(1024 * 1024),
          NODE_OPTIONS: "--enable-source-maps",
        }),
      },
      LoggingConfig: { LogGroup: Match.anyValue() },
    });
    template.allResourcesProperties("AWS::Logs::LogGroup", { RetentionInDays: Match.anyValue() });
  });

  it("gives the authorizer GetItem and UpdateItem on the identity table only", () => {
    const statements = policyOf(roleIdOf(stack.functions.authorizer.function));
    const data = statements.filter((s) => JSON.stringify(s.Action).includes("dynamodb:"));
    expect(data).toEqual([
      expect.objectContaining({
        Action: ["dynamodb:GetItem", "dynamodb:UpdateItem"],
        Resource: { "Fn::GetAtt": [tableId("mgtest-identity"), "Arn"] },
      }),
    ]);
    expect(JSON.stringify(statements)).not.toContain("sagemaker:");
  });

  it("lets invoke call only this platform's endpoints and write only the usage table", () => {
    const permissions = permissionsOf(roleIdOf(stack.functions.invoke.function));
    const endpointArn = (name: string) => ({
      "Fn::Join": [
        "",
        ["arn:", { Ref: "AWS::Partition" }, ":sagemaker:", { Ref: "AWS::Region" }, ":", { Ref: "AWS::AccountId" }, `:endpoint/${name}`],
      ],
    });
    const usageTable = { "Fn::GetAtt": [tableId("mgtest-usage"), "Arn"] };
    const inPartitions = (prefix: string) => ({ "ForAllValues:StringLike": { "dynamodb:LeadingKeys": [`${prefix}*`] } });
    expect(permissions).toEqual(
      expect.arrayContaining([
        ...["mgtest-iris", "mgtest-llm"].map((name) => ({ action: "sagemaker:InvokeEndpoint", resource: endpointArn(name) })),
        // One conditional put of its usage record, in the record partitions.
        { action: "dynamodb:PutItem", resource: usageTable, condition: inPartitions("REC#") },
        // The limit cells: conditional updates, and a read where a refused write returned no item.
        ...["dynamodb:GetItem", "dynamodb:UpdateItem"].map((action) => ({
          action,
          resource: usageTable,
          condition: inPartitions("LIMIT#"),
        })),
        // Shadow copies: only the shadow function, unqualified.
        { action: "lambda:InvokeFunction", resource: { "Fn::GetAtt": [expect.stringMatching(/^Fnshadow/), "Arn"] } },
      ]),
    );
    // The KServe and raw routes never stream a model's answer (only the OpenAI routes do).
    const sagemaker = permissions.filter((p) => p.action.startsWith("sagemaker:"));
    expect(sortedByJson(sagemaker)).toEqual(
      sortedByJson(["mgtest-iris", "mgtest-llm"].map((name) => ({ action: "sagemaker:InvokeEndpoint", resource: endpointArn(name) }))),
    );
    // Every write of the usage table stays in its record and limit partitions.
    for (const p of permissions.filter((p) => /^dynamodb:(PutItem|UpdateItem|DeleteItem|BatchWriteItem)$/.test(p.action))) {
      expect(p).toMatchObject({ resource: usageTable, condition: expect.anything() });
    }
    // No access records on the request path (issue 15): reconciliation reads the gateway's access log.
    expect(JSON.stringify(permissions)).not.toMatch(/ACCESS#|BatchWriteItem/);
    // Lease reclaim reads records: a query of the table only in REC# partitions (the table has no
    // index); no other query of the usage table.
    const queries = permissions.filter(
      (p) => p.action === "dynamodb:Query" && JSON.stringify(p.resource).includes(tableId("mgtest-usage")),
    );
    expect(sortedByJson(queries)).toEqual(
      sortedByJson([
        {
          action: "dynamodb:Query",
          resource: usageTable,
          condition: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["REC#*"] } },
        },
      ]),
    );
    // The principal comes from the authorizer context: no read of the identity table.
    expect(JSON.stringify(permissions)).not.toContain(tableId("mgtest-identity"));
  });

  it("lets the usage function update only LIMIT# items of the usage table (its per-tenant read rate)", () => {
    const permissions = permissionsOf(roleIdOf(stack.functions.usage.function));
    const writes = permissions.filter((p) => /PutItem|UpdateItem|DeleteItem|BatchWriteItem/.test(p.action));
    expect(writes).toEqual([
      {
        action: "dynamodb:UpdateItem",
        resource: { "Fn::GetAtt": [tableId("mgtest-usage"), "Arn"] },
        condition: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["LIMIT#*"] } },
      },
    ]);
  });

  it("lets admin read and delete only staged uploads, write only under models/, and read and write (never delete) invoices/", () => {
    const permissions = permissionsOf(roleIdOf(stack.functions.admin.function));
    const s3 = permissions.filter((p) => p.action.startsWith("s3:"));
    const objects = (prefix: string) => ({ "Fn::Join": ["", [{ "Fn::GetAtt": [bucketId, "Arn"] }, `/${prefix}/*`]] });
    expect(sortedByJson(s3)).toEqual(
      sortedByJson([
        { action: "s3:GetObject", resource: objects("uploads") },
        // The copy names the version it verified (CopyObject with a version id).
        { action: "s3:GetObjectVersion", resource: objects("uploads") },
        { action: "s3:DeleteObject", resource: objects("uploads") },
        { action: "s3:PutObject", resource: objects("models") },
        // Issued invoices: written once, read back, listed under their prefix only.
        { action: "s3:GetObject", resource: objects("invoices") },
        { action: "s3:PutObject", resource: objects("invoices") },
        {
          action: "s3:ListBucket",
          resource: { "Fn::GetAtt": [bucketId, "Arn"] },
          condition: { StringLike: { "s3:prefix": ["invoices/*"] } },
        },
      ]),
    );
    // Reconciliation repairs: the missing records only (aggregates follow from the stream), never a delete of usage.
    const usageTable = JSON.stringify(tableId("mgtest-usage"));
    expect(permissions.filter((p) => JSON.stringify(p.resource).includes(usageTable) && !/^dynamodb:Query$/.test(p.action))).toEqual([
      {
        action: "dynamodb:PutItem",
        resource: { "Fn::GetAtt": [tableId("mgtest-usage"), "Arn"] },
        condition: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["REC#*"] } },
      },
    ]);
    const env = template.findResources("AWS::Lambda::Function", { Properties: { Description: Match.stringLikeRegexp("^Admin API") } });
    const vars = Object.values(env)[0]?.Properties?.Environment?.Variables ?? {};
    expect(vars).toMatchObject({ MODEL_BUCKET: expect.anything(), REGISTRY_CACHE_TTL_MS: "5000", MAX_KEYS_PER_TENANT: "10" });
    // Versions become ready by a deploy in the cloud: its composition root says so, not a variable.
    expect(vars).not.toHaveProperty("VERSION_ACTIVATION");
  });

  it("lets admin query only the API stage's access log (reconciliation), named in its environment", () => {
    const permissions = permissionsOf(roleIdOf(stack.functions.admin.function));
    const logGroupId = stack.getLogicalId(stack.gateway.accessLogs.node.defaultChild as never);
    const logs = permissions.filter((p) => /^logs:(StartQuery|GetQueryResults)$/.test(p.action));
    expect(logs).toEqual(
      expect.arrayContaining([
        { action: "logs:StartQuery", resource: { "Fn::GetAtt": [logGroupId, "Arn"] } },
        { action: "logs:GetQueryResults", resource: "*" },
      ]),
    );
    // Both forms of the log group's ARN, and nothing else.
    expect(logs).toHaveLength(3);
    expect(JSON.stringify(logs.filter((p) => p.action === "logs:StartQuery").map((p) => p.resource))).toContain(`:log-group:`);
    const env = template.findResources("AWS::Lambda::Function", { Properties: { Description: Match.stringLikeRegexp("^Admin API") } });
    expect(Object.values(env)[0]?.Properties?.Environment?.Variables).toMatchObject({ ACCESS_LOG_GROUP: { Ref: logGroupId } });
    // No other function reads logs.
    for (const [name, f] of Object.entries(stack.functions))
      if (name !== "admin") expect(JSON.stringify(permissionsOf(roleIdOf(f.function)))).not.toContain("logs:StartQuery");
  });

  it("uses no wildcard resource except where AWS requires one", () => {
    for (const [name, f] of Object.entries(stack.functions)) {
      for (const p of permissionsOf(roleIdOf(f.function))) {
        // X-Ray's actions, Logs Insights' results (by query id) and Cost Explorer (the admin
        // function's showback, where the config has a pool) have no resource-level permissions.
        const unscoped = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "logs:GetQueryResults"];
        if (name === "admin") unscoped.push("ce:GetCostAndUsage");
        if (p.resource === "*") expect(unscoped).toContain(p.action);
        expect(JSON.stringify(p.resource)).not.toContain("/index/*");
      }
    }
  });
});
