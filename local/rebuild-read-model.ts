/**
 * `npm run rebuild:read-model`: replay every event in the store into the recordings read
 * model. Locally (no CAPSTAN_DYNAMODB_ENDPOINT) it opens the data dir's DynamoDB Local
 * itself, so stop `npm start` first; with an endpoint (or in AWS) it uses that.
 *
 *   --into <table>  build a fresh table beside the live one (compare, then switch config)
 *   (default)       empty the live read model table, then replay into it
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ScanCommand, BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { LocalConfigSchema, readConfig } from '../shared/config.ts';
import { createLogger } from '../shared/logger.ts';
import { rebuildRecordings, recordingProjection } from '../shared/projections/recording-projection.ts';
import { DynamoDbRecordingReadModel } from '../shared/readmodel/dynamodb.ts';
import { RECORDINGS_TABLE } from '../shared/tables.ts';
import { buildAdapters } from '../shared/wiring.ts';
import { ensureTable } from './bootstrap.ts';
import { startDynamoDbLocal } from './servers/dynamodb-local.ts';

const { values } = parseArgs({ options: { into: { type: 'string' } } });
const base = readConfig(LocalConfigSchema, process.env);
const logger = createLogger(base.CAPSTAN_LOG_LEVEL, { tool: 'rebuild-read-model' });
const server = base.CAPSTAN_DYNAMODB_ENDPOINT ? undefined : await startDynamoDbLocal({ dataDir: join(resolve(base.CAPSTAN_DATA_DIR), 'dynamodb') });
try {
  const config = { ...base, CAPSTAN_DYNAMODB_ENDPOINT: base.CAPSTAN_DYNAMODB_ENDPOINT ?? server?.endpoint };
  const adapters = buildAdapters(config);
  const table = values.into ?? config.CAPSTAN_RECORDINGS_TABLE;
  await ensureTable(adapters.dynamo, RECORDINGS_TABLE, table);
  if (values.into === undefined) {
    let removed = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await adapters.docs.send(new ScanCommand({ TableName: table, ProjectionExpression: 'tenant_id, recording_id', ExclusiveStartKey: startKey }));
      const keys = page.Items ?? [];
      for (let i = 0; i < keys.length; i += 25) {
        await adapters.docs.send(new BatchWriteCommand({ RequestItems: { [table]: keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } })) } }));
      }
      removed += keys.length;
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    logger.info('read model emptied', { table, removed });
  }
  const projection = recordingProjection({ readModel: new DynamoDbRecordingReadModel(adapters.docs, table), store: adapters.store });
  const started = performance.now();
  const result = await rebuildRecordings(adapters.store.readAll(), projection);
  logger.info('read model rebuilt', { table, ...result, ms: Math.round(performance.now() - started) });
} finally {
  await server?.stop();
}
