import { describe, expect, it } from 'vitest';
import { DEFAULT_KEY_TEMPLATE, defaultOutputs, METADATA_LIMITS, MetadataSchema, StorageSettingsSchema } from './model.ts';
import { CreateRecordingRequestSchema, RecordingIdSchema } from './requests.ts';

const keys = (n: number, value: (i: number) => unknown = () => 'v') =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, value(i)]));

const messages = (result: { success: boolean; error?: { issues: { message: string }[] } }) =>
  result.error?.issues.map((i) => i.message) ?? [];

describe('MetadataSchema', () => {
  it('accepts strings, numbers, booleans and null within the limits', () => {
    const value = { team: 'core', 'a.b:c-d_e': 'x', count: 3, ratio: 0.5, active: false, none: null, ...keys(44) };
    expect(Object.keys(value)).toHaveLength(METADATA_LIMITS.maxKeys);
    expect(MetadataSchema.parse(value)).toEqual(value);
    expect(MetadataSchema.safeParse({}).success).toBe(true);
  });

  it('refuses 51 keys', () => {
    const result = MetadataSchema.safeParse(keys(51));
    expect(result.success).toBe(false);
    expect(messages(result)).toContain('metadata has at most 50 keys');
  });

  it('accepts a 40-character key and refuses a 41-character one', () => {
    expect(MetadataSchema.safeParse({ ['k'.repeat(40)]: 'v' }).success).toBe(true);
    const long = 'k'.repeat(41);
    const result = MetadataSchema.safeParse({ [long]: 'v' });
    expect(result.success).toBe(false);
    // The issue names the offending key in its path, whatever zod's internal issue shape.
    expect(result.error?.issues).toHaveLength(1);
    const issue = result.error?.issues[0];
    expect(issue?.path).toEqual([long]);
    const text = JSON.stringify(issue);
    expect(text).toContain('metadata keys are');
    expect(text).toContain('40 characters');
  });

  it('accepts a 500-character value and refuses a 501-character one', () => {
    expect(MetadataSchema.safeParse({ note: 'x'.repeat(500) }).success).toBe(true);
    const result = MetadataSchema.safeParse({ note: 'x'.repeat(501) });
    expect(result.success).toBe(false);
    expect(messages(result)).toContain('metadata values are at most 500 characters');
  });

  it('refuses nested objects and arrays', () => {
    const nested = MetadataSchema.safeParse({ nested: { a: 1 } });
    expect(nested.success).toBe(false);
    expect(messages(nested)).toContain('metadata values are strings, numbers, booleans or null (no nested objects)');
    expect(MetadataSchema.safeParse({ list: ['a'] }).success).toBe(false);
  });

  it('refuses more than 8 KiB of JSON even when every key and value is within its own limit', () => {
    const big = keys(20, () => 'x'.repeat(500));
    expect(Buffer.byteLength(JSON.stringify(big))).toBeGreaterThan(8 * 1024);
    const result = MetadataSchema.safeParse(big);
    expect(result.success).toBe(false);
    expect(messages(result)).toEqual(['metadata is at most 8192 bytes of JSON']);
    expect(MetadataSchema.safeParse(keys(15, () => 'x'.repeat(500))).success).toBe(true);
  });

  it('refuses empty keys, keys with other characters and non-finite numbers', () => {
    expect(MetadataSchema.safeParse({ '': 'v' }).success).toBe(false);
    expect(MetadataSchema.safeParse({ 'has space': 'v' }).success).toBe(false);
    expect(MetadataSchema.safeParse({ 'slash/key': 'v' }).success).toBe(false);
    expect(MetadataSchema.safeParse({ n: Number.POSITIVE_INFINITY }).success).toBe(false);
  });
});

describe('StorageSettingsSchema key_template', () => {
  const parse = (key_template: string) => StorageSettingsSchema.safeParse({ key_template });

  it('accepts the default and templates using the known placeholders', () => {
    for (const t of [DEFAULT_KEY_TEMPLATE, '{recording_id}/{name}', 'exports/{date}/{tenant_id}-{recording_id}/{name}']) {
      expect(parse(t).success, t).toBe(true);
    }
  });

  it('must contain {recording_id} and, after it, {name} (one prefix per recording)', () => {
    for (const t of ['{tenant_id}/{name}', '{tenant_id}/{recording_id}', 'static/key.mp4', '{name}/{recording_id}']) {
      const result = parse(t);
      expect(result.success, t).toBe(false);
      expect(messages(result)).toContain('key_template must contain {recording_id} and, after it, {name}');
    }
  });

  it('refuses an unknown placeholder', () => {
    const result = parse('{recording_id}/{user}/{name}');
    expect(result.success).toBe(false);
    expect(messages(result)).toEqual(['key_template placeholders are {tenant_id}, {recording_id}, {name}, {date}']);
    expect(parse('{recording_id}/{}/{name}').success).toBe(false);
  });

  it('refuses "..", "//" and a leading "/"', () => {
    const rule = 'key_template must be a relative key without "..", "//" or a leading "/"';
    for (const t of ['../{recording_id}/{name}', '{recording_id}/../{name}', '/{recording_id}/{name}', '{recording_id}//{name}']) {
      const result = parse(t);
      expect(result.success, t).toBe(false);
      expect(messages(result)).toContain(rule);
    }
  });

  it('refuses unknown fields', () => {
    expect(StorageSettingsSchema.safeParse({ key_template: DEFAULT_KEY_TEMPLATE, bucket: 'mine' }).success).toBe(false);
  });
});

describe('CreateRecordingRequestSchema', () => {
  it('accepts a minimal request', () => {
    expect(CreateRecordingRequestSchema.parse({ source: { type: 'rtp' } })).toEqual({ source: { type: 'rtp' } });
  });

  it('refuses an unknown top-level field with issue code unrecognized_keys', () => {
    const result = CreateRecordingRequestSchema.safeParse({ source: { type: 'rtp' }, colour: 'blue' });
    expect(result.success).toBe(false);
    expect(result.error?.issues).toEqual([expect.objectContaining({ code: 'unrecognized_keys', keys: ['colour'], path: [] })]);
  });

  it('refuses repeated outputs', () => {
    const result = CreateRecordingRequestSchema.safeParse({ source: { type: 'rtp' }, outputs: ['audio.wav', 'audio.wav'] });
    expect(result.success).toBe(false);
    expect(result.error?.issues).toEqual([expect.objectContaining({ path: ['outputs'], message: 'outputs must not repeat' })]);
    expect(CreateRecordingRequestSchema.safeParse({ source: { type: 'rtp' }, outputs: ['audio.wav', 'transcript'] }).success).toBe(true);
    expect(CreateRecordingRequestSchema.safeParse({ source: { type: 'rtp' }, outputs: [] }).success).toBe(false);
  });

  it('a bot source requires an http(s) meeting_url', () => {
    const bot = (extra: Record<string, unknown>) => CreateRecordingRequestSchema.safeParse({ source: { type: 'bot', ...extra } });
    expect(bot({ meeting_url: 'https://meet.example.com/abc-def' }).success).toBe(true);
    expect(bot({ meeting_url: 'http://meet.example.com/abc-def' }).success).toBe(true);
    expect(bot({}).success).toBe(false);
    for (const url of ['ftp://meet.example.com/x', 'javascript:alert(1)', 'meet.example.com/x', 'not a url']) {
      const result = bot({ meeting_url: url });
      expect(result.success, url).toBe(false);
      expect(result.error?.issues[0]?.path).toEqual(['source', 'meeting_url']);
    }
  });

  it('a bot join_at must be an ISO 8601 date-time', () => {
    const bot = (join_at: string) =>
      CreateRecordingRequestSchema.safeParse({ source: { type: 'bot', meeting_url: 'https://m.example.com/x', join_at } });
    expect(bot('2026-06-01T10:00:00Z').success).toBe(true);
    expect(bot('2026-06-01T10:00:00+02:00').success).toBe(true);
    expect(bot('tomorrow').success).toBe(false);
  });

  it('refuses an unknown source type and unknown source fields', () => {
    expect(CreateRecordingRequestSchema.safeParse({ source: { type: 'carrier-pigeon' } }).success).toBe(false);
    expect(CreateRecordingRequestSchema.safeParse({ source: { type: 'rtp', extra: 1 } }).success).toBe(false);
  });
});

describe('defaults and ids', () => {
  it('defaultOutputs depends on the source type', () => {
    expect(defaultOutputs('stream')).toEqual(['audio.wav']);
    expect(defaultOutputs('rtp')).toEqual(['composite.mp4', 'audio.m4a']);
    expect(defaultOutputs('bot')).toEqual(['composite.mp4', 'audio.m4a']);
  });

  it('RecordingIdSchema accepts only rec_ + 26 lowercase alphanumerics', () => {
    expect(RecordingIdSchema.safeParse('rec_01jabcdefghjkmnpqrstvwxyz0').success).toBe(true);
    expect(RecordingIdSchema.safeParse('rec_01JABCDEFGHJKMNPQRSTVWXYZ0').success).toBe(false);
    expect(RecordingIdSchema.safeParse('rec_short').success).toBe(false);
  });
});
