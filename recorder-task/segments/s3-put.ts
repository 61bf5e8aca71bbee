/** The one S3 call the uploader makes, behind a function type so tests (and outages) can swap it. */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/** Stores one object. It must honour `signal` (shutdown, per-attempt timeout). */
export type PutSegment = (key: string, body: Buffer, signal: AbortSignal) => Promise<void>;

export function s3PutSegment(s3: S3Client, bucket: string): PutSegment {
  return async (key, body, signal) => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/octet-stream' }), {
      abortSignal: signal,
    });
  };
}

/** The HTTP status of an SDK error, if it got that far: 4xx points at the destination bucket. */
export function httpStatus(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && '$metadata' in error) {
    const metadata = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
    return metadata?.httpStatusCode;
  }
  return undefined;
}
