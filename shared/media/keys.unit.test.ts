import { describe, expect, it } from 'vitest';
import { DEFAULT_KEY_TEMPLATE } from '../recording/model.ts';
import { objectKey, recordingPrefix, type KeyParts } from './keys.ts';

const parts: KeyParts = { tenant_id: 'tenant-a', recording_id: 'rec_00000000000000000000000001', date: '2026-06-01' };

describe('objectKey', () => {
  it('fills the default template', () => {
    expect(objectKey(DEFAULT_KEY_TEMPLATE, parts, 'composite.mp4')).toBe('tenant-a/rec_00000000000000000000000001/composite.mp4');
  });

  it('fills every placeholder, each as often as it appears', () => {
    expect(objectKey('exports/{date}/{tenant_id}/{recording_id}-{date}/{name}', parts, 'audio.m4a')).toBe(
      'exports/2026-06-01/tenant-a/rec_00000000000000000000000001-2026-06-01/audio.m4a',
    );
  });

  it('keeps static text and names with dots or slashes as given', () => {
    expect(objectKey('{recording_id}/media/{name}', parts, 'tracks/alice.opus')).toBe('rec_00000000000000000000000001/media/tracks/alice.opus');
  });
});

describe('recordingPrefix', () => {
  it('is the template up to {name}, filled in', () => {
    expect(recordingPrefix(DEFAULT_KEY_TEMPLATE, parts)).toBe('tenant-a/rec_00000000000000000000000001/');
    expect(recordingPrefix('exports/{date}/{recording_id}/{name}', parts)).toBe('exports/2026-06-01/rec_00000000000000000000000001/');
  });

  it('may end mid-segment when {name} shares a segment with the id', () => {
    expect(recordingPrefix('{tenant_id}/{recording_id}-{name}', parts)).toBe('tenant-a/rec_00000000000000000000000001-');
  });

  it('is a prefix of every object key of the recording', () => {
    for (const template of [DEFAULT_KEY_TEMPLATE, 'x/{date}/{tenant_id}/{recording_id}/{name}', '{recording_id}_{name}']) {
      const prefix = recordingPrefix(template, parts);
      expect(prefix).toContain(parts.recording_id);
      for (const name of ['composite.mp4', 'audio.wav', 'tracks/bob.opus']) expect(objectKey(template, parts, name).startsWith(prefix)).toBe(true);
    }
  });
});
