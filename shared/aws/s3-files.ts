/** Whole files to and from S3, streamed (a composite can be gigabytes), with size and SHA-256 measured on the way. */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

export async function downloadToFile(s3: S3Client, bucket: string, key: string, path: string, signal?: AbortSignal): Promise<number> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
  if (object.Body === undefined) throw new Error(`s3://${bucket}/${key} has no body`);
  await pipeline(object.Body as Readable, createWriteStream(path), { signal });
  return (await stat(path)).size;
}

export async function readObject(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (object.Body === undefined) throw new Error(`s3://${bucket}/${key} has no body`);
  return Buffer.from(await object.Body.transformToByteArray());
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

export async function uploadFile(
  s3: S3Client,
  bucket: string,
  key: string,
  path: string,
  contentType: string,
  signal?: AbortSignal,
): Promise<{ bytes: number; sha256: string }> {
  const [bytes, sha256] = [(await stat(path)).size, await sha256OfFile(path)];
  await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: createReadStream(path), ContentLength: bytes, ContentType: contentType }),
    { abortSignal: signal },
  );
  return { bytes, sha256 };
}
