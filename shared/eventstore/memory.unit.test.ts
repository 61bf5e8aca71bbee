import { describe, expect, it } from 'vitest';
import { eventStoreContract, newEvent } from '../../test/contracts/event-store.contract.ts';
import { InMemoryEventStore } from './memory.ts';

eventStoreContract('in-memory', () => new InMemoryEventStore());

describe('in-memory event store specifics', () => {
  it('readAll yields every stream in version order, and hands out copies', async () => {
    const store = new InMemoryEventStore();
    await store.appendToStream('rec_a', 0, [newEvent('A1'), newEvent('A2')]);
    await store.appendToStream('rec_b', 0, [newEvent('B1')]);
    const all: { stream_id: string; version: number }[] = [];
    for await (const e of store.readAll()) all.push({ stream_id: e.stream_id, version: e.version });
    expect(all).toEqual([{ stream_id: 'rec_a', version: 1 }, { stream_id: 'rec_a', version: 2 }, { stream_id: 'rec_b', version: 1 }]);
    const [first] = await store.readStream('rec_a');
    first!.data['mutated'] = true;
    expect((await store.readStream('rec_a'))[0]!.data).not.toHaveProperty('mutated');
  });
});
