/**
 * SQS consumer: `recording.deleted` → the recording's media removed. Also a `composition.failed`
 * with code `recording_deleted`: a composition that was rendering when the recording was
 * deleted may have uploaded files after the first cleanup ran; those go too (the storage
 * settings come from the read model, which already says `deleted`). Reports partial batch failures.
 */
import middy from '@middy/core';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { EventBridgeEnvelopeSchema } from '../../shared/integration/envelope.ts';
import type { Logger } from '../../shared/logger.ts';
import { deleteRecordingMedia } from '../../shared/media/cleanup.ts';
import type { IntegrationEvent } from '../../shared/integration/integration-event.ts';
import type { RecordingReadModel } from '../../shared/readmodel/port.ts';
import { RECORDING_DELETED, StorageSettingsSchema } from '../../shared/recording/model.ts';

const DeletedDataSchema = z.object({ storage_settings: StorageSettingsSchema, created_at: z.string() });

const CompositionFailedDataSchema = z.object({ error: z.object({ code: z.string() }) });

export interface MediaCleanupDeps {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly readModel: Pick<RecordingReadModel, 'get'>;
  readonly logger: Logger;
}

/** What to clean for an event: the deleted recording's storage settings and creation time, or null (nothing to do). */
async function cleanupTarget(deps: MediaCleanupDeps, detail: IntegrationEvent): Promise<{ key_template: string; created_at: string } | null> {
  if (detail.type === 'recording.deleted') {
    const { storage_settings, created_at } = DeletedDataSchema.parse(detail.data);
    return { key_template: storage_settings.key_template, created_at };
  }
  if (detail.type === 'composition.failed' && CompositionFailedDataSchema.safeParse(detail.data).data?.error.code === RECORDING_DELETED) {
    const view = await deps.readModel.get(detail.tenant_id, detail.recording_id);
    if (view === null || view.status !== 'deleted') throw new Error(`recording ${detail.recording_id} is not deleted in the read model yet`);
    return { key_template: view.storage_settings.key_template, created_at: view.created_at };
  }
  return null;
}

export function createMediaCleanupHandler(deps: MediaCleanupDeps) {
  return middy<SQSEvent, SQSBatchResponse>().handler(async (event) => {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      try {
        const { detail } = EventBridgeEnvelopeSchema.parse(JSON.parse(record.body));
        const target = await cleanupTarget(deps, detail);
        if (target === null) continue;
        const deleted = await deleteRecordingMedia(deps.s3, deps.bucket, target.key_template, {
          tenant_id: detail.tenant_id,
          recording_id: detail.recording_id,
          date: target.created_at.slice(0, 10),
        });
        deps.logger.info('recording media deleted', { recordingId: detail.recording_id, objects: deleted, after: detail.type });
      } catch (error) {
        deps.logger.error('media cleanup failed', { messageId: record.messageId, error });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  });
}
