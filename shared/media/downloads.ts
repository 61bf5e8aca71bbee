/** Presigned download URLs for a recording's artifacts. Range requests work on them (S3 GetObject). */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

export interface DownloadLink {
  readonly url: string;
  readonly expires_at: string;
}

export type Presigner = (key: string, options: { fileName: string; contentType: string; now: string }) => Promise<DownloadLink>;

export function s3Presigner(s3: S3Client, bucket: string, ttlSeconds: number): Presigner {
  return async (key, { fileName, contentType, now }) => {
    const command = new GetObjectCommand({
      Bucket: bucket,
      Key: key,
      ResponseContentType: contentType,
      // A download keeps its artifact name, whatever the key template made of the key.
      ResponseContentDisposition: `attachment; filename="${fileName.replace(/["\\\r\n]/g, '_')}"`,
    });
    const url = await getSignedUrl(s3, command, { expiresIn: ttlSeconds });
    return { url, expires_at: new Date(Date.parse(now) + ttlSeconds * 1000).toISOString() };
  };
}
