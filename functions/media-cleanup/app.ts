/** SQS consumer: `recording.deleted` → the recording's media removed. Reports partial batch failures. */
import middy from '@middy/core';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { EventBridgeEnvelopeSchema } from '../../shared/integration/envelope.ts';
import type { Logger } from '../../shared/logger.ts';
import { deleteRecordingMedia } from '../../shared/media/cleanup.ts';
import { StorageSettingsSchema } from '../../shared/recording/model.ts';

const DeletedDataSchema = z.object({ storage_settings: StorageSettingsSchema, created_at: z.string() });

export function createMediaCleanupHandler(deps: { s3: S3Client; bucket: string; logger: Logger }) {
  return middy<SQSEvent, SQSBatchResponse>().handler(async (event) => {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      try {
        const { detail } = EventBridgeEnvelopeSchema.parse(JSON.parse(record.body));
        if (detail.type !== 'recording.deleted') continue;
        const { storage_settings, created_at } = DeletedDataSchema.parse(detail.data);
        const deleted = await deleteRecordingMedia(deps.s3, deps.bucket, storage_settings.key_template, {
          tenant_id: detail.tenant_id,
          recording_id: detail.recording_id,
          date: created_at.slice(0, 10),
        });
        deps.logger.info('recording media deleted', { recordingId: detail.recording_id, objects: deleted });
      } catch (error) {
        deps.logger.error('media cleanup failed', { messageId: record.messageId, error });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  });
}
