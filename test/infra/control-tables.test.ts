import { describe, it } from "@jest/globals";
import { Match } from "aws-cdk-lib/assertions";
import { synthTwoModels } from "./two-models";

// One synthesis (cdk-nag on; bundling skipped: only the template is read) shared by every assertion below.
const { template } = synthTwoModels({ bundling: false });

describe("ControlTables (two models, three versions)", () => {
  it.each(["identity", "registry", "usage"])("%s: on-demand, PITR, encrypted", (id) => {
    template.hasResourceProperties("AWS::DynamoDB::GlobalTable", {
      TableName: `mgtest-${id}`,
      BillingMode: "PAY_PER_REQUEST",
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      SSESpecification: { SSEEnabled: true },
      Replicas: [
        Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true }, DeletionProtectionEnabled: true }),
      ],
    });
  });

  it("expires usage records by TTL, indexes identity by gsi1, and gives the usage table no index (a write costs its item alone)", () => {
    template.hasResourceProperties("AWS::DynamoDB::GlobalTable", {
      TableName: "mgtest-usage",
      TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
      GlobalSecondaryIndexes: Match.absent(),
    });
    template.hasResourceProperties("AWS::DynamoDB::GlobalTable", {
      TableName: "mgtest-identity",
      TimeToLiveSpecification: Match.absent(),
      GlobalSecondaryIndexes: [Match.objectLike({ IndexName: "gsi1" })],
    });
    template.hasResourceProperties("AWS::DynamoDB::GlobalTable", {
      TableName: "mgtest-registry",
      GlobalSecondaryIndexes: Match.absent(),
    });
  });
});
