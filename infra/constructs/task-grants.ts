/** Grants the recorder and compositor tasks share. */
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';

/**
 * Read media and write new objects (PutObject, which also covers multipart uploads; no
 * delete, tagging or object-lock actions); read recordings' streams and append to them
 * (events are never updated or deleted).
 */
export function grantMediaAndAppend(role: iam.IGrantable, bucket: s3.IBucket, eventsTable: dynamodb.ITableV2): void {
  const media = s3.BucketGrants.fromBucket(bucket);
  media.read(role);
  media.actionsOnObjectKeys(role, '*', 's3:PutObject', 's3:AbortMultipartUpload');
  eventsTable.grantReadData(role);
  eventsTable.grant(role, 'dynamodb:PutItem');
}
