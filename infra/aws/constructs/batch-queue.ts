import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import type * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as sources from "aws-cdk-lib/aws-lambda-event-sources";
import type * as sns from "aws-cdk-lib/aws-sns";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

export interface BatchQueueProps {
  /** The batch worker (functions/batch-worker), which drains the queue. */
  readonly worker: lambda.IFunction;
  /** The worker's timeout: a message stays invisible longer than one delivery may take. */
  readonly workerTimeout: Duration;
  /**
   * Deliveries of a message before it goes to the dead-letter queue. Each step is idempotent,
   * so a redelivery only finishes what a crashed or timed-out delivery left. @default 5
   */
  readonly maxReceiveCount?: number;
  /** Where the dead-letter alarm notifies. @default no action */
  readonly alarmTopic?: sns.ITopic;
}

/**
 * The batch work queue: validate, chunk and finalize messages (functions/core/batch/worker.ts),
 * encrypted and TLS-only, drained one message per invocation by the worker (whose reserved
 * concurrency bounds what batch work takes from the models), with a dead-letter queue for
 * messages that keep failing and an alarm as soon as one lands there.
 */
export class BatchQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetters: sqs.Queue;
  readonly deadLetterAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: BatchQueueProps) {
    super(scope, id);
    this.deadLetters = new sqs.Queue(this, "DeadLetters", {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, "Queue", {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // A completion window is 24 h: work older than 4 days is long expired.
      retentionPeriod: Duration.days(4),
      // AWS's advice for a Lambda event source: at least the function's timeout, with room for retries.
      visibilityTimeout: Duration.seconds(props.workerTimeout.toSeconds() + 60),
      deadLetterQueue: { queue: this.deadLetters, maxReceiveCount: props.maxReceiveCount ?? 5 },
    });
    props.worker.addEventSource(
      new sources.SqsEventSource(this.queue, {
        // One chunk per invocation: a slow chunk never holds up another's redelivery.
        batchSize: 1,
        reportBatchItemFailures: true,
      }),
    );
    this.deadLetterAlarm = this.deadLetters
      .metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: "Maximum" })
      .createAlarm(this, "DeadLetterAlarm", {
        alarmDescription: "Batch work failed every delivery: a batch is stuck until an operator looks (redrive after fixing)",
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    if (props.alarmTopic) this.deadLetterAlarm.addAlarmAction(new actions.SnsAction(props.alarmTopic));
  }

  /** SendMessage (SendMessageBatch is authorized as SendMessage) on the work queue only. */
  grantSend(grantee: iam.IGrantable): iam.Grant {
    return this.queue.grantSendMessages(grantee);
  }
}
