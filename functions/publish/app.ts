/** DynamoDB Streams → projections + integration events, as a middy handler. */
import middy from '@middy/core';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { streamProcessor, type StreamProcessorDeps } from '../../shared/projections/stream-processor.ts';

export function createPublishHandler(deps: StreamProcessorDeps) {
  const processor = streamProcessor(deps);
  return middy<DynamoDBStreamEvent, DynamoDBBatchResponse>().handler((event) => processor.processBatch(event.Records));
}
