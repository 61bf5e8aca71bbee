import { describe, expect, it } from 'vitest';
import { reasonForEventName, s3ObjectCreatedEvent, type ObjectCreatedFacts } from './s3-object-created.ts';

/** The "Object created" example of https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html (current revision). */
const AWS_EXAMPLE = `{
  "version": "0",
  "id": "17793124-05d4-b198-2fde-7ededc63b103",
  "detail-type": "Object Created",
  "source": "aws.s3",
  "account": "111122223333",
  "time": "2021-11-12T00:00:00Z",
  "region": "ca-central-1",
  "resources": [
    "arn:aws:s3:::amzn-s3-demo-bucket1"
  ],
  "detail": {
    "version": "0",
    "event-version": "1.0",
    "bucket": {
      "name": "amzn-s3-demo-bucket1"
    },
    "object": {
      "key": "example-key",
      "size": 5,
      "etag": "b1946ac92492d2347c6235b4d2611184",
      "version-id": "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e",
      "sequencer": "617f08299329d189"
    },
    "request-id": "N4N7GDK58NMKJ12R",
    "requester": "123456789012",
    "source-ip-address": "1.2.3.4",
    "reason": "PutObject"
  }
}`;

const FACTS: ObjectCreatedFacts = {
  bucket: 'amzn-s3-demo-bucket1',
  key: 'example-key',
  size: 5,
  etag: 'b1946ac92492d2347c6235b4d2611184',
  versionId: 'IYV3p45BT0ac8hjHg1houSdS1a.Mro8e',
  sequencer: '617f08299329d189',
  requestId: 'N4N7GDK58NMKJ12R',
  sourceIpAddress: '1.2.3.4',
  reason: 'PutObject',
  time: '2021-11-12T00:00:00.000Z',
};
const OPTIONS = { id: '17793124-05d4-b198-2fde-7ededc63b103', account: '111122223333', region: 'ca-central-1', requester: '123456789012' };

describe('s3ObjectCreatedEvent', () => {
  it('builds the event of the AWS documentation, field for field and in the same order', () => {
    const event = s3ObjectCreatedEvent(FACTS, OPTIONS);
    expect(event).toStrictEqual(JSON.parse(AWS_EXAMPLE));
    expect(JSON.stringify(event)).toBe(JSON.stringify(JSON.parse(AWS_EXAMPLE)));
  });

  it('leaves version-id out for an unversioned bucket (the media bucket)', () => {
    const { versionId: _v, ...unversioned } = FACTS;
    const event = s3ObjectCreatedEvent(unversioned, OPTIONS);
    expect(Object.keys(event.detail.object)).toEqual(['key', 'size', 'etag', 'sequencer']);
  });

  it('writes time with second precision, requester defaulting to the account, a fresh id and the partition in the ARN', () => {
    const event = s3ObjectCreatedEvent(
      { ...FACTS, time: new Date('2026-03-01T10:11:12.987Z'), reason: 'CompleteMultipartUpload', etag: 'abc-3' },
      { account: '000000000000', region: 'us-east-1', partition: 'aws-cn' },
    );
    expect(event.time).toBe('2026-03-01T10:11:12Z');
    expect(event.detail.requester).toBe('000000000000');
    expect(event.detail.reason).toBe('CompleteMultipartUpload');
    expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(event.resources).toEqual(['arn:aws-cn:s3:::amzn-s3-demo-bucket1']);
  });
});

describe('reasonForEventName', () => {
  it.each([
    ['ObjectCreated:Put', 'PutObject'],
    ['ObjectCreated:Post', 'POST Object'],
    ['ObjectCreated:Copy', 'CopyObject'],
    ['ObjectCreated:CompleteMultipartUpload', 'CompleteMultipartUpload'],
    ['s3:ObjectCreated:Put', 'PutObject'],
    ['ObjectRemoved:Delete', null],
    ['ObjectRestore:Post', null],
  ])('%s → %s', (name, reason) => {
    expect(reasonForEventName(name)).toBe(reason);
  });
});
