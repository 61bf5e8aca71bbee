/**
 * Removes a deleted recording's media from the bucket. Fed by the `mediaCleanup` queue
 * (route `media-cleanup-on-delete`: `recording.deleted`, and a composition that failed because
 * its recording was deleted while it rendered); the recording's metadata stays in the event store.
 */
import { Duration } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { capstanFunction } from './capstan-function.ts';
import type { ResourceEnvironment } from './environment.ts';

export interface MediaCleanupProps {
  readonly environment: ResourceEnvironment;
  readonly queue: sqs.IQueue;
  readonly bucket: s3.IBucket;
  /** The read model: the storage settings of a deleted recording. */
  readonly recordingsTable: dynamodb.ITableV2;
}

export class MediaCleanup extends Construct {
  readonly function: NodejsFunction;

  constructor(scope: Construct, id: string, props: MediaCleanupProps) {
    super(scope, id);
    this.function = capstanFunction(this, 'Function', {
      handlerName: 'media-cleanup',
      description: 'Deletes the media of deleted recordings',
      environment: props.environment,
      // AWS advises a queue visibility timeout of at least 6x the function timeout
      // (media-cleanup: 120 s).
      timeout: Duration.seconds(20),
    });
    this.function.addEventSource(
      new SqsEventSource(props.queue, { batchSize: 10, reportBatchItemFailures: true }),
    );

    // The handler lists the recording's key prefix, then deletes what it found. For
    // `recording.deleted` everything comes in the event; after a composition that failed
    // because its recording was deleted, it reads the recording's storage settings (GetItem).
    const media = s3.BucketGrants.fromBucket(props.bucket);
    media.actionsOnBucketAndObjectKeys(this.function, undefined, 's3:ListBucket');
    media.delete(this.function);
    props.recordingsTable.grant(this.function, 'dynamodb:GetItem');
  }
}
