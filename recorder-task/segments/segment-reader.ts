/**
 * Reads a recording's segments back from S3: at finalization, and by crash recovery when the
 * recorder that wrote them is gone. S3 is the only source; nothing local is assumed.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { SegmentFormatError } from './errors.ts';
import { decodeSegment, type SegmentHeader, type SegmentRecord } from './format.ts';

/** Segment keys end in `<digits>.capseg`; the digits are the index (any padding). */
const SEGMENT_KEY = /(\d+)\.capseg$/;

export interface SegmentObject {
  readonly key: string;
  readonly index: number;
  readonly sizeBytes: number;
}

/**
 * Every segment object under `prefix`, ascending index. Other objects under it (manifest,
 * tracks) are ignored. `pageSize` is ListObjectsV2's MaxKeys (S3 caps it at 1000).
 */
export async function listSegments(s3: S3Client, bucket: string, prefix: string, options: { pageSize?: number } = {}): Promise<SegmentObject[]> {
  const found: SegmentObject[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token, MaxKeys: options.pageSize }));
    for (const object of page.Contents ?? []) {
      const match = object.Key === undefined ? null : SEGMENT_KEY.exec(object.Key);
      if (object.Key === undefined || match === null) continue;
      found.push({ key: object.Key, index: Number(match[1]), sizeBytes: object.Size ?? 0 });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return found.sort((a, b) => a.index - b.index || a.key.localeCompare(b.key));
}

export interface ReadSegment {
  readonly key: string;
  readonly header: SegmentHeader;
  readonly bytes: number;
  /** Hex SHA-256 of the object body, to compare with the manifest. */
  readonly sha256: string;
  readonly truncatedBytes: number;
  readonly records: SegmentRecord[];
}

export interface UnreadableSegment {
  readonly key: string;
  readonly bytes: number;
  readonly error: SegmentFormatError;
}

export interface ReadSegmentsResult {
  /** Readable segments, ascending index. */
  readonly segments: ReadSegment[];
  /** Every record of every readable segment, in segment then file order (arrival order). */
  readonly records: (SegmentRecord & { readonly segmentIndex: number })[];
  /** Objects whose header is not a segment's: reported, not thrown, so one bad object does not hide the rest. */
  readonly unreadable: UnreadableSegment[];
}

export async function readSegment(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (object.Body === undefined) throw new Error(`object ${key} has no body`);
  const bytes = await object.Body.transformToByteArray();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Downloads and decodes every segment under `prefix`. Downloads run `concurrency` at a time;
 * results keep index order. S3 errors (network, access) are thrown: the caller retries.
 */
export async function readSegments(
  s3: S3Client,
  bucket: string,
  prefix: string,
  options: { concurrency?: number; pageSize?: number } = {},
): Promise<ReadSegmentsResult> {
  const objects = await listSegments(s3, bucket, prefix, options);
  const bodies: Buffer[] = new Array<Buffer>(objects.length);
  let next = 0;
  const downloadNext = async (): Promise<void> => {
    for (let at = next++; at < objects.length; at = next++) {
      bodies[at] = await readSegment(s3, bucket, objects[at]!.key);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, downloadNext));

  const result: ReadSegmentsResult = { segments: [], records: [], unreadable: [] };
  objects.forEach((object, at) => {
    const body = bodies[at]!;
    try {
      const decoded = decodeSegment(body);
      const sha256 = createHash('sha256').update(body).digest('hex');
      result.segments.push({ key: object.key, header: decoded.header, bytes: body.length, sha256, truncatedBytes: decoded.truncatedBytes, records: decoded.records });
      for (const record of decoded.records) result.records.push({ ...record, segmentIndex: decoded.header.segmentIndex });
    } catch (error) {
      if (!(error instanceof SegmentFormatError)) throw error;
      result.unreadable.push({ key: object.key, bytes: body.length, error });
    }
  });
  return result;
}
