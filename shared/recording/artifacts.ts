/** The recorder's own files as artifacts: the sync manifest and each original track file. */
import type { Artifact } from './model.ts';
import type { RecordedTrack } from './tracks.ts';

export const manifestArtifact = (manifest: { key: string; bytes: number; sha256: string }): Artifact => ({
  name: 'manifest.json',
  kind: 'manifest',
  key: manifest.key,
  content_type: 'application/json',
  bytes: manifest.bytes,
  sha256: manifest.sha256,
});

export const trackArtifact = (t: Pick<RecordedTrack, 'file_name' | 'key' | 'content_type' | 'bytes' | 'duration_seconds' | 'sha256'>): Artifact => ({
  name: t.file_name,
  kind: 'track',
  key: t.key,
  content_type: t.content_type,
  bytes: t.bytes,
  duration_seconds: t.duration_seconds,
  sha256: t.sha256,
});
