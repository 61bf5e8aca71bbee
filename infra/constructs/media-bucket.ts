/**
 * Recording media. Private, TLS-only, S3-managed encryption. EventBridge notifications
 * are on so object events (e.g. `Object Created`) reach the default bus.
 *
 * Not versioned: media cleanup must really remove a deleted recording's objects, and
 * versioning would keep them as noncurrent versions.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export class MediaBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      eventBridgeEnabled: true,
      lifecycleRules: [
        {
          id: 'abort-incomplete-multipart-uploads',
          // Recorders upload in parts; a crashed upload's parts are billed until aborted.
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
