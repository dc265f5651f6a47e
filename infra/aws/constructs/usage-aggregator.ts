import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as sources from "aws-cdk-lib/aws-lambda-event-sources";
import type * as sns from "aws-cdk-lib/aws-sns";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { AGGREGATOR_STREAM } from "../../../functions/contract/tables";
import type { ControlTables } from "./control-tables";

export interface UsageAggregatorProps {
  /** The control tables: the usage table's stream (NEW_IMAGE) feeds the aggregator, which writes its items there. */
  readonly tables: ControlTables;
  /** The aggregator function (functions/aggregator). */
  readonly function: lambda.IFunction;
  /**
   * Alarm when the oldest record a batch carries is older than this: aggregates (and asOf)
   * lag by that much. Well under the freshness window (functions/aws/usage-reader.ts).
   * @default Duration.minutes(5)
   */
  readonly maxIteratorAge?: Duration;
  /** Where the alarm notifies. @default no action */
  readonly alarmTopic?: sns.ITopic;
}

/**
 * Feeds the usage table's stream to the aggregator: an event source mapping with the shared
 * filter (INSERTs of packs), batch size, batching window, tumbling window (so Lambda names the
 * shard, the aggregator's checkpoint key), bisect on error, retry attempts and reported item
 * failures; batches that still fail go to an encrypted, TLS-only queue; an alarm on iterator age.
 * The function may write only the aggregator's items: aggregates, applied counts, checkpoints.
 */
export class UsageAggregator extends Construct {
  readonly deadLetters: sqs.Queue;
  readonly iteratorAgeAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: UsageAggregatorProps) {
    super(scope, id);
    this.deadLetters = new sqs.Queue(this, "FailedBatches", {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    props.function.addEventSource(
      new sources.DynamoEventSource(props.tables.usage, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: AGGREGATOR_STREAM.batchSize,
        maxBatchingWindow: Duration.seconds(AGGREGATOR_STREAM.maxBatchingWindowSeconds),
        tumblingWindow: Duration.seconds(AGGREGATOR_STREAM.tumblingWindowSeconds),
        bisectBatchOnError: AGGREGATOR_STREAM.bisectBatchOnError,
        retryAttempts: AGGREGATOR_STREAM.retryAttempts,
        reportBatchItemFailures: true,
        // One batch at a time per shard: the checkpoint's order is the shard's.
        parallelizationFactor: 1,
        onFailure: new sources.SqsDlq(this.deadLetters),
        filters: [lambda.FilterCriteria.filter(AGGREGATOR_STREAM.filter as unknown as Record<string, unknown>)],
      }),
    );
    props.tables.grantUsageAggregation(props.function);
    this.iteratorAgeAlarm = new cloudwatch.Metric({
      namespace: "AWS/Lambda",
      metricName: "IteratorAge",
      dimensionsMap: { FunctionName: props.function.functionName },
      statistic: "Maximum",
      period: Duration.minutes(1),
    }).createAlarm(this, "IteratorAge", {
      alarmDescription: "The usage aggregator lags the usage table's stream: aggregates and asOf are behind",
      threshold: (props.maxIteratorAge ?? Duration.minutes(5)).toMilliseconds(),
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.alarmTopic) this.iteratorAgeAlarm.addAlarmAction(new actions.SnsAction(props.alarmTopic));
  }
}
