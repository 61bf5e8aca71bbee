/**
 * Global setup of the `int` project: one DynamoDB Local (in memory), one s3rver and one
 * local-aws-sqs for the whole run. Test files isolate themselves by table/bucket names.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../local/servers/dynamodb-local.ts';
import { startS3rver, startSqs } from '../../local/servers/s3-sqs.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
    s3Endpoint: string;
    sqsEndpoint: string;
  }
}

export default async function setup(project: TestProject) {
  const s3Dir = mkdtempSync(join(tmpdir(), 'capstan-s3-'));
  const [dynamodb, s3, sqs] = await Promise.all([startDynamoDbLocal({ inMemory: true }), startS3rver({ dataDir: s3Dir }), startSqs()]);
  project.provide('dynamodbEndpoint', dynamodb.endpoint);
  project.provide('s3Endpoint', s3.endpoint);
  project.provide('sqsEndpoint', sqs.endpoint);
  return async () => {
    await Promise.all([dynamodb.stop(), s3.stop(), sqs.stop()]);
    rmSync(s3Dir, { recursive: true, force: true });
  };
}
