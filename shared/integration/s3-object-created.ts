/**
 * The EventBridge "Object Created" event Amazon S3 sends to the default bus of a bucket with
 * EventBridge notifications on. The local runtime builds it from s3rver's notifications, so
 * task routes see the same event in both engines.
 *
 * Shape per the Amazon S3 User Guide, "EventBridge event message structure"
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html, "Object created"
 * example and "Event message detail field"):
 *
 *   { "version": "0", "id": "17793124-05d4-b198-2fde-7ededc63b103",
 *     "detail-type": "Object Created", "source": "aws.s3", "account": "111122223333",
 *     "time": "2021-11-12T00:00:00Z", "region": "ca-central-1",
 *     "resources": ["arn:aws:s3:::amzn-s3-demo-bucket1"],
 *     "detail": { "version": "0", "event-version": "1.0",
 *       "bucket": { "name": "amzn-s3-demo-bucket1" },
 *       "object": { "key": "example-key", "size": 5, "etag": "b1946ac92492d2347c6235b4d2611184",
 *                   "version-id": "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e", "sequencer": "617f08299329d189" },
 *       "request-id": "N4N7GDK58NMKJ12R", "requester": "123456789012",
 *       "source-ip-address": "1.2.3.4", "reason": "PutObject" } }
 *
 * - `reason` is the API that created the object: PutObject, POST Object, CopyObject or
 *   CompleteMultipartUpload (a multipart upload's `etag` ends in `-<parts>`).
 * - `version-id` is present only for versioned buckets (the media bucket is not versioned).
 * - `event-version` ("1.0") appears in the current revision of the page and not in older
 *   ones; nothing in Capstan matches on it.
 * - Unlike the classic notification records (SQS/SNS/Lambda, `Records[].s3.object.key`),
 *   the EventBridge `detail.object.key` is the object key itself, not URL-encoded.
 */
import { randomUUID } from 'node:crypto';

export const S3_EVENT_SOURCE = 'aws.s3';
export const OBJECT_CREATED = 'Object Created';

export const OBJECT_CREATED_REASONS = ['PutObject', 'POST Object', 'CopyObject', 'CompleteMultipartUpload'] as const;
export type ObjectCreatedReason = (typeof OBJECT_CREATED_REASONS)[number];

export interface S3ObjectCreatedEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': typeof OBJECT_CREATED;
  readonly source: typeof S3_EVENT_SOURCE;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly [string];
  readonly detail: {
    readonly version: '0';
    readonly 'event-version': '1.0';
    readonly bucket: { readonly name: string };
    readonly object: {
      readonly key: string;
      readonly size: number;
      readonly etag: string;
      readonly 'version-id'?: string;
      readonly sequencer: string;
    };
    readonly 'request-id': string;
    readonly requester: string;
    readonly 'source-ip-address': string;
    readonly reason: ObjectCreatedReason;
  };
}

export interface ObjectCreatedFacts {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  /** Without quotes, as S3 reports it in events. */
  readonly etag: string;
  readonly sequencer: string;
  readonly versionId?: string;
  readonly requestId: string;
  readonly sourceIpAddress: string;
  readonly reason: ObjectCreatedReason;
  /** When S3 stored the object; EventBridge's `time` has second precision. */
  readonly time: Date | string;
}

export interface EnvelopeOptions {
  readonly account: string;
  readonly region: string;
  /** Who made the request: an account id (or an AWS service principal). Default: `account`. */
  readonly requester?: string;
  readonly id?: string;
  readonly partition?: string;
}

/** `2021-11-12T00:00:00.123Z` → `2021-11-12T00:00:00Z`, as EventBridge writes `time`. */
function eventTime(time: Date | string): string {
  return new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function s3ObjectCreatedEvent(facts: ObjectCreatedFacts, options: EnvelopeOptions): S3ObjectCreatedEvent {
  return {
    version: '0',
    id: options.id ?? randomUUID(),
    'detail-type': OBJECT_CREATED,
    source: S3_EVENT_SOURCE,
    account: options.account,
    time: eventTime(facts.time),
    region: options.region,
    resources: [`arn:${options.partition ?? 'aws'}:s3:::${facts.bucket}`],
    detail: {
      version: '0',
      'event-version': '1.0',
      bucket: { name: facts.bucket },
      object: {
        key: facts.key,
        size: facts.size,
        etag: facts.etag,
        ...(facts.versionId !== undefined ? { 'version-id': facts.versionId } : {}),
        sequencer: facts.sequencer,
      },
      'request-id': facts.requestId,
      requester: options.requester ?? options.account,
      'source-ip-address': facts.sourceIpAddress,
      reason: facts.reason,
    },
  };
}

/**
 * The `reason` for an event name of S3's classic notifications (`ObjectCreated:Put`, …);
 * null for anything that is not an object creation.
 */
export function reasonForEventName(eventName: string): ObjectCreatedReason | null {
  switch (eventName.replace(/^s3:/, '')) {
    case 'ObjectCreated:Put':
      return 'PutObject';
    case 'ObjectCreated:Post':
      return 'POST Object';
    case 'ObjectCreated:Copy':
      return 'CopyObject';
    case 'ObjectCreated:CompleteMultipartUpload':
      return 'CompleteMultipartUpload';
    default:
      return null;
  }
}
