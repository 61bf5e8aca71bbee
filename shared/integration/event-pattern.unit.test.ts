import { describe, expect, it } from 'vitest';
import {
  assertSupportedPattern,
  environmentFrom,
  isInputPath,
  matchesPattern,
  readPath,
  UnsupportedPatternError,
  type EventPattern,
} from './event-pattern.ts';

/** The "Object created" example of the Amazon S3 User Guide, "EventBridge event message structure". */
const S3_OBJECT_CREATED = {
  version: '0',
  id: '17793124-05d4-b198-2fde-7ededc63b103',
  'detail-type': 'Object Created',
  source: 'aws.s3',
  account: '111122223333',
  time: '2021-11-12T00:00:00Z',
  region: 'ca-central-1',
  resources: ['arn:aws:s3:::amzn-s3-demo-bucket1'],
  detail: {
    version: '0',
    bucket: { name: 'amzn-s3-demo-bucket1' },
    object: {
      key: 'example-key',
      size: 5,
      etag: 'b1946ac92492d2347c6235b4d2611184',
      'version-id': 'IYV3p45BT0ac8hjHg1houSdS1a.Mro8e',
      sequencer: '617f08299329d189',
    },
    'request-id': 'N4N7GDK58NMKJ12R',
    requester: '123456789012',
    'source-ip-address': '1.2.3.4',
    reason: 'PutObject',
  },
};

/** The EC2 state-change event the EventBridge User Guide uses for its pattern examples. */
const EC2_STATE_CHANGE = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: { 'instance-id': 'i-1234567890abcdef0', state: 'terminated' },
};

describe('matchesPattern', () => {
  it('matches exact values at the top level and in nested objects', () => {
    const pattern: EventPattern = {
      source: ['aws.ec2'],
      'detail-type': ['EC2 Instance State-change Notification'],
      detail: { state: ['running', 'terminated'] },
    };
    expect(matchesPattern(pattern, EC2_STATE_CHANGE)).toBe(true);
    expect(matchesPattern({ ...pattern, detail: { state: ['running'] } }, EC2_STATE_CHANGE)).toBe(false);
    expect(matchesPattern({ source: ['aws.s3'] }, EC2_STATE_CHANGE)).toBe(false);
  });

  it('ignores fields the pattern does not name', () => {
    expect(matchesPattern({ source: ['aws.ec2'] }, EC2_STATE_CHANGE)).toBe(true);
  });

  it('matches an S3 object key by suffix and a bucket by name, as a manifest rule does', () => {
    const pattern: EventPattern = {
      source: ['aws.s3'],
      'detail-type': ['Object Created'],
      detail: { bucket: { name: ['amzn-s3-demo-bucket1'] }, object: { key: [{ suffix: '-key' }] } },
    };
    expect(matchesPattern(pattern, S3_OBJECT_CREATED)).toBe(true);
    expect(matchesPattern({ ...pattern, detail: { ...pattern['detail'], object: { key: [{ suffix: 'manifest.json' }] } } }, S3_OBJECT_CREATED)).toBe(false);
    expect(matchesPattern({ ...pattern, detail: { bucket: { name: ['another-bucket'] } } }, S3_OBJECT_CREATED)).toBe(false);
  });

  it('matches prefixes on strings only', () => {
    expect(matchesPattern({ time: [{ prefix: '2017-12-22' }] }, EC2_STATE_CHANGE)).toBe(true);
    expect(matchesPattern({ time: [{ prefix: '2017-12-23' }] }, EC2_STATE_CHANGE)).toBe(false);
    expect(matchesPattern({ detail: { object: { size: [{ prefix: '5' }] } } }, S3_OBJECT_CREATED)).toBe(false);
  });

  it('matches an event array when any element matches (resources)', () => {
    const event = { ...EC2_STATE_CHANGE, resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-0', EC2_STATE_CHANGE.resources[0]] };
    expect(matchesPattern({ resources: [EC2_STATE_CHANGE.resources[0]!] }, event)).toBe(true);
    expect(matchesPattern({ resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-9'] }, event)).toBe(false);
    expect(matchesPattern({ resources: [{ suffix: '/i-0' }] }, event)).toBe(true);
  });

  it('matches numbers, booleans and null exactly, without type coercion', () => {
    const event = { detail: { size: 5, versioned: false, 'version-id': null } };
    expect(matchesPattern({ detail: { size: [5] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { size: ['5'] } }, event)).toBe(false);
    expect(matchesPattern({ detail: { versioned: [false] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { 'version-id': [null] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { versioned: [null] } }, event)).toBe(false);
  });

  it('implements exists on leaves, including under missing parents', () => {
    expect(matchesPattern({ detail: { state: [{ exists: true }] } }, EC2_STATE_CHANGE)).toBe(true);
    expect(matchesPattern({ detail: { 'c-count': [{ exists: true }] } }, EC2_STATE_CHANGE)).toBe(false);
    expect(matchesPattern({ detail: { 'c-count': [{ exists: false }] } }, EC2_STATE_CHANGE)).toBe(true);
    expect(matchesPattern({ detail: { state: [{ exists: false }] } }, EC2_STATE_CHANGE)).toBe(false);
    expect(matchesPattern({ nothing: { here: [{ exists: false }] } }, EC2_STATE_CHANGE)).toBe(true);
    // exists works on leaves: an object is none.
    expect(matchesPattern({ detail: [{ exists: true }] }, EC2_STATE_CHANGE)).toBe(false);
    // `version-id` is left out of events for unversioned buckets: a rule can require its absence.
    const { 'version-id': _v, ...unversioned } = S3_OBJECT_CREATED.detail.object;
    expect(matchesPattern({ detail: { object: { 'version-id': [{ exists: false }] } } }, { ...S3_OBJECT_CREATED, detail: { ...S3_OBJECT_CREATED.detail, object: unversioned } })).toBe(true);
  });

  it('does not match a nested pattern against a scalar or a non-object event', () => {
    expect(matchesPattern({ source: { name: ['aws.ec2'] } }, EC2_STATE_CHANGE)).toBe(false);
    expect(matchesPattern({ source: ['aws.ec2'] }, null)).toBe(false);
    expect(matchesPattern({ source: ['aws.ec2'] }, 'aws.ec2')).toBe(false);
  });

  it('does not read inherited properties as event fields', () => {
    expect(matchesPattern({ toString: [{ exists: true }] }, {})).toBe(false);
    expect(matchesPattern({ constructor: [{ exists: false }] }, {})).toBe(true);
  });
});

describe('assertSupportedPattern', () => {
  it('accepts the supported syntax', () => {
    expect(() =>
      assertSupportedPattern({
        source: ['aws.s3'],
        detail: { object: { key: [{ suffix: '.json' }, { prefix: 'a/' }, 'exact'], size: [5, null, true] }, x: [{ exists: false }] },
      }),
    ).not.toThrow();
  });

  it.each([
    ['anything-but', { source: [{ 'anything-but': 'aws.s3' }] }],
    ['numeric', { detail: { size: [{ numeric: ['>', 0] }] } }],
    ['wildcard', { detail: { key: [{ wildcard: '*.json' }] } }],
    ['$or', { $or: [{ source: ['a'] }, { source: ['b'] }] }],
    ['a scalar leaf', { source: 'aws.s3' }],
    ['an empty array', { source: [] }],
    ['an empty object', { detail: {} }],
    ['two operators in one matcher', { key: [{ prefix: 'a', suffix: 'b' }] }],
    ['a non-string prefix', { key: [{ prefix: 1 }] }],
  ])('refuses %s', (_name, pattern) => {
    expect(() => assertSupportedPattern(pattern)).toThrow(UnsupportedPatternError);
  });
});

describe('readPath', () => {
  it('reads EventBridge input paths', () => {
    expect(readPath(S3_OBJECT_CREATED, '$.detail.object.key')).toBe('example-key');
    expect(readPath(S3_OBJECT_CREATED, '$.detail.bucket.name')).toBe('amzn-s3-demo-bucket1');
    expect(readPath(S3_OBJECT_CREATED, '$.detail-type')).toBe('Object Created');
    expect(readPath(S3_OBJECT_CREATED, '$.detail.request-id')).toBe('N4N7GDK58NMKJ12R');
    expect(readPath(S3_OBJECT_CREATED, "$.detail['source-ip-address']")).toBe('1.2.3.4');
    expect(readPath(S3_OBJECT_CREATED, '$.resources[0]')).toBe('arn:aws:s3:::amzn-s3-demo-bucket1');
    expect(readPath(S3_OBJECT_CREATED, '$.detail.object.size')).toBe(5);
    expect(readPath(S3_OBJECT_CREATED, '$')).toBe(S3_OBJECT_CREATED);
  });

  it('is undefined when a step is missing', () => {
    expect(readPath(S3_OBJECT_CREATED, '$.detail.nothing.key')).toBeUndefined();
    expect(readPath(S3_OBJECT_CREATED, '$.resources[3]')).toBeUndefined();
    expect(readPath(S3_OBJECT_CREATED, '$.detail[0]')).toBeUndefined();
    expect(readPath({}, '$.toString')).toBeUndefined();
  });

  it('refuses what is not an input path', () => {
    expect(() => readPath({}, 'detail.key')).toThrow(/start with \$/);
    expect(() => readPath({}, '$..key')).toThrow(/unsupported/);
    expect(isInputPath('$.detail.data.composition_id')).toBe(true);
    expect(isInputPath('$detail')).toBe(false);
  });
});

describe('environmentFrom', () => {
  it('maps paths to strings and reports missing ones', () => {
    const { env, missing } = environmentFrom(
      { BUCKET: '$.detail.bucket.name', KEY: '$.detail.object.key', SIZE: '$.detail.object.size', NOPE: '$.detail.nope' },
      S3_OBJECT_CREATED,
    );
    expect(env).toEqual({ BUCKET: 'amzn-s3-demo-bucket1', KEY: 'example-key', SIZE: '5' });
    expect(missing).toEqual(['NOPE']);
  });
});
