/** The DynamoDB adapter against DynamoDB Local (AWS's emulator): the shared contract plus vendor specifics. */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { eventStoreContract, newEvent } from '../../test/contracts/event-store.contract.ts';
import { isolatedAdapters } from '../../test/support/aws.ts';
import { DynamoDbEventStore, MAX_EVENTS_PER_APPEND } from './dynamodb.ts';
import { VersionConflictError } from './port.ts';

let adapters: Awaited<ReturnType<typeof isolatedAdapters>>;
beforeAll(async () => {
  adapters = await isolatedAdapters();
});

eventStoreContract('DynamoDB Local', () => adapters.store);

describe('DynamoDB event store specifics', () => {
  it('maps a failed condition to VersionConflictError and keeps the vendor error as cause', async () => {
    const id = 'rec_conflictcause000000000000';
    await adapters.store.appendToStream(id, 0, [newEvent('A')]);
    const error = await adapters.store.appendToStream(id, 0, [newEvent('B')]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VersionConflictError);
    expect((error as VersionConflictError).cause).toMatchObject({ name: 'ConditionalCheckFailedException' });
    const batchError = await adapters.store.appendToStream(id, 0, [newEvent('B'), newEvent('C')]).catch((e: unknown) => e);
    expect((batchError as VersionConflictError).cause).toMatchObject({ name: 'TransactionCanceledException' });
  });

  it('re-throws errors that are not conflicts (missing table) untouched', async () => {
    const store = new DynamoDbEventStore(adapters.docs, 'no-such-table');
    const error = await store.appendToStream('rec_x', 0, [newEvent('A')]).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(VersionConflictError);
    expect((error as Error).name).toBe('ResourceNotFoundException');
  });

  it('refuses more events than one transaction can carry', async () => {
    const events = Array.from({ length: MAX_EVENTS_PER_APPEND + 1 }, () => newEvent('A'));
    await expect(adapters.store.appendToStream('rec_toomany', 0, events)).rejects.toBeInstanceOf(RangeError);
  });

  it('reads a stream longer than one DynamoDB page', async () => {
    const id = 'rec_longstream0000000000000';
    const big = 'x'.repeat(40_000);
    for (let v = 0; v < 40; v += 10) {
      await adapters.store.appendToStream(id, v, Array.from({ length: 10 }, (_, i) => newEvent(`E${v + i + 1}`, { big })));
    }
    const events = await adapters.store.readStream(id);
    expect(events.map((e) => e.version)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });

  it('rejects an item that is not an event when reading (zod at the boundary)', async () => {
    await adapters.dynamo.send(
      new PutItemCommand({ TableName: adapters.config.CAPSTAN_EVENTS_TABLE, Item: { stream_id: { S: 'rec_corrupt' }, version: { N: '1' }, type: { S: 'X' } } }),
    );
    await expect(adapters.store.readStream('rec_corrupt')).rejects.toThrow(/event_id|Invalid/);
  });
});
