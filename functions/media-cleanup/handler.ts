/** Lambda entry for the media-cleanup queue. */
import { documentClient, dynamoDbClient, s3Client } from '../../shared/aws/clients.ts';
import { DynamoDbRecordingReadModel } from '../../shared/readmodel/dynamodb.ts';
import { CoreConfigSchema, readConfig } from '../../shared/config.ts';
import { createLogger } from '../../shared/logger.ts';
import { createMediaCleanupHandler } from './app.ts';

const config = readConfig(CoreConfigSchema, process.env);

export const handler = createMediaCleanupHandler({
  s3: s3Client(config),
  bucket: config.CAPSTAN_BUCKET,
  readModel: new DynamoDbRecordingReadModel(documentClient(dynamoDbClient(config)), config.CAPSTAN_RECORDINGS_TABLE),
  logger: createLogger(config.CAPSTAN_LOG_LEVEL, { fn: 'media-cleanup' }),
});
