/** DynamoDB Streams → projections + integration events, as a middy handler. */
import middy from '@middy/core';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import type { IntegrationBus } from '../../shared/integration/bus.ts';
import type { Logger } from '../../shared/logger.ts';
import type { RecordingProjection } from '../../shared/projections/recording-projection.ts';
import { streamProcessor } from '../../shared/projections/stream-processor.ts';

export function createPublishHandler(deps: { projection: RecordingProjection; bus: IntegrationBus; logger: Logger }) {
  const processor = streamProcessor(deps);
  return middy<DynamoDBStreamEvent, DynamoDBBatchResponse>().handler((event) => processor.processBatch(event.Records));
}
