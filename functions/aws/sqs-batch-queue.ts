import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity, Provider } from "@smithy/types";
import type { BatchMessage, BatchQueue } from "../core/batch/ports";

/** SQS takes at most 10 messages per SendMessageBatch. */
const PER_CALL = 10;

/**
 * Batch work onto SQS: SendMessageBatch over SQS's JSON protocol, signed with SigV4. (The
 * project carries no SQS client package; this is the one call the functions make.)
 */
export class SqsBatchQueue implements BatchQueue {
  private readonly signer: SignatureV4;
  private readonly endpoint: URL;

  constructor(
    private readonly queueUrl: string,
    credentials: AwsCredentialIdentity | Provider<AwsCredentialIdentity>,
    region: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    this.signer = new SignatureV4({ credentials, region, service: "sqs", sha256: Sha256 });
    this.endpoint = new URL(`https://sqs.${region}.amazonaws.com/`);
  }

  async send(messages: readonly BatchMessage[]): Promise<void> {
    for (let i = 0; i < messages.length; i += PER_CALL) {
      const entries = messages.slice(i, i + PER_CALL).map((m, j) => ({ Id: String(i + j), MessageBody: JSON.stringify(m) }));
      const body = JSON.stringify({ QueueUrl: this.queueUrl, Entries: entries });
      const signed = await this.signer.sign({
        method: "POST",
        protocol: this.endpoint.protocol,
        hostname: this.endpoint.hostname,
        path: "/",
        query: {},
        headers: {
          host: this.endpoint.host,
          "content-type": "application/x-amz-json-1.0",
          "x-amz-target": "AmazonSQS.SendMessageBatch",
        },
        body,
      });
      const res = await this.fetchImpl(this.endpoint, { method: "POST", headers: signed.headers as Record<string, string>, body });
      const text = await res.text();
      if (!res.ok) throw new Error(`SQS SendMessageBatch failed (${res.status}): ${text.slice(0, 300)}`);
      const failed = (JSON.parse(text) as { Failed?: unknown[] }).Failed ?? [];
      if (failed.length > 0) throw new Error(`SQS refused ${failed.length} batch message(s): ${JSON.stringify(failed).slice(0, 300)}`);
    }
  }
}
