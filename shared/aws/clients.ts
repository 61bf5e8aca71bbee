/**
 * SDK clients built from config. Local servers get an endpoint and dummy credentials;
 * in the cloud the default credential chain and region apply.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { z } from 'zod';
import type { AwsConfigSchema } from '../config.ts';

type AwsConfig = Readonly<z.infer<typeof AwsConfigSchema>>;

const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

function endpointOptions(region: string, endpoint: string | undefined) {
  return endpoint === undefined ? { region } : { region, endpoint, credentials: LOCAL_CREDENTIALS };
}

export function dynamoDbClient(config: AwsConfig): DynamoDBClient {
  return new DynamoDBClient({ ...endpointOptions(config.AWS_REGION, config.CAPSTAN_DYNAMODB_ENDPOINT), maxAttempts: 3 });
}

export function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
  });
}

export function s3Client(config: AwsConfig): S3Client {
  return new S3Client({
    ...endpointOptions(config.AWS_REGION, config.CAPSTAN_S3_ENDPOINT),
    forcePathStyle: config.CAPSTAN_S3_ENDPOINT !== undefined,
    // s3rver stores aws-chunked framing inside streamed bodies unless checksums are off.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export function sqsClient(config: AwsConfig): SQSClient {
  return new SQSClient(endpointOptions(config.AWS_REGION, config.CAPSTAN_SQS_ENDPOINT));
}
