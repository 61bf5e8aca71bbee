import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InMemoryEventStore } from '../eventstore/memory.ts';
import { fixedClock } from '../clock.ts';
import { InMemoryIdempotencyStore } from '../idempotency/memory.ts';
import { InMemoryRecordingReadModel } from '../readmodel/memory.ts';
import { recordingService } from '../recording/service.ts';
import { foldRecording } from '../recording/view.ts';
import { INTEGRATION_EVENT_TYPES } from './event-types.ts';
import { toIntegrationEvent } from './integration-event.ts';
import { eventJsonSchemas, payloadSchema } from './json-schemas.ts';

describe('event JSON Schemas', () => {
  it('docs/events/ holds exactly what the zod schemas generate (run npm run docs:events if not)', () => {
    for (const [type, schema] of Object.entries(eventJsonSchemas())) {
      const committed = JSON.parse(readFileSync(new URL(`../../docs/events/${type}.json`, import.meta.url), 'utf8'));
      expect(committed, `docs/events/${type}.json is stale: run npm run docs:events`).toEqual(schema);
    }
    expect(Object.keys(eventJsonSchemas())).toEqual([...INTEGRATION_EVENT_TYPES]);
  });

  it('the payloads the publisher produces match their schemas, including completion with artifacts', async () => {
    let n = 0;
    const store = new InMemoryEventStore();
    const service = recordingService({ store, readModel: new InMemoryRecordingReadModel(), idempotency: new InMemoryIdempotencyStore(), clock: fixedClock('2026-11-23T10:00:00.000Z'), ids: { next: (p) => `${p}_${String(++n).padStart(26, '0')}` } });
    const { view } = await service.create({ tenantId: 't' }, { source: { type: 'rtp' }, outputs: ['composite.mp4'] });
    const run = (make: (now: string) => never) => service.system(view.id, 't', make);
    const manifest = { key: 'm', bytes: 1, sha256: 'a' };
    const artifact = { name: 'composite.mp4', kind: 'composite', key: 'k', content_type: 'video/mp4', bytes: 9, duration_seconds: 1, sha256: 'b', codecs: ['h264'], resolution: '2x2', composition_id: 'cmp_1' };
    await run((now) => ({ type: 'ClaimRecording', metadata: { now }, data: { recorder_id: 'r' } }) as never);
    await run((now) => ({ type: 'StartRecording', metadata: { now }, data: {} }) as never);
    await run((now) => ({ type: 'StopRecording', metadata: { now }, data: { reason: 'api' } }) as never);
    await run((now) => ({ type: 'FinishCapture', metadata: { now }, data: { manifest } }) as never);
    await run((now) => ({ type: 'StartComposition', metadata: { now }, data: { composition_id: 'cmp_1', compositor_id: 'c', lease_seconds: 60, request: { layout: { preset: 'grid' }, outputs: ['composite.mp4'] } } }) as never);
    await run((now) => ({ type: 'ReportCompositionProgress', metadata: { now }, data: { composition_id: 'cmp_1', compositor_id: 'c', percent: 50 } }) as never);
    await run((now) => ({ type: 'CompleteComposition', metadata: { now }, data: { composition_id: 'cmp_1', compositor_id: 'c', artifacts: [artifact], duration_seconds: 1 } }) as never);
    const events = await store.readStream(view.id);
    const payloads = events.map((e, i) => toIntegrationEvent(e, foldRecording(events.slice(0, i + 1))!)).filter((p) => p !== null);
    expect(payloads.map((p) => p.type)).toEqual(['recording.requested', 'recording.started', 'recording.stopped', 'composition.requested', 'composition.started', 'composition.progress', 'composition.completed', 'recording.completed']);
    for (const payload of payloads) {
      const parsed = payloadSchema(payload.type).safeParse(payload);
      expect(parsed.success, `${payload.type}: ${parsed.error?.message}`).toBe(true);
    }
  });
});
