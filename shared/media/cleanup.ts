/** Removes a deleted recording's media from the bucket; the event log and metadata stay. */
import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { recordingPrefix, type KeyParts } from './keys.ts';

export async function deleteRecordingMedia(s3: S3Client, bucket: string, template: string, parts: KeyParts): Promise<number> {
  const prefix = recordingPrefix(template, parts);
  let deleted = 0;
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    // The prefix may end mid-segment (e.g. `t/rec_1` also matches `t/rec_12…`): keep exact matches only.
    const keys = (page.Contents ?? []).map((o) => o.Key ?? '').filter((key) => key.startsWith(prefix) && key.includes(parts.recording_id));
    if (keys.length > 0) {
      const result = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }));
      if (result.Errors && result.Errors.length > 0) throw new Error(`could not delete ${result.Errors.length} objects under ${prefix}`);
      deleted += keys.length;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return deleted;
}
