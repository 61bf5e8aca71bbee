import { describe, expect, it } from 'vitest';
import { CompositorConfigSchema, triggerOf } from '../recorder-task/compositor/config.ts';
import { assertSupportedPattern, environmentFrom, isInputPath, matchesPattern } from './integration/event-pattern.ts';
import { EVENT_SOURCE, INTEGRATION_EVENT_TYPES } from './integration/event-types.ts';
import { envelope } from './integration/envelope.ts';
import type { StoredEvent } from './eventstore/port.ts';
import { toIntegrationEvent, type IntegrationEvent } from './integration/integration-event.ts';
import type { RecordingView } from './recording/view.ts';
import { s3ObjectCreatedEvent } from './integration/s3-object-created.ts';
import { bindPattern, PATTERN_PARAMS, ROUTES, TASK_ROUTES, TASKS, taskTriggerEnvNames, type TaskRoute } from './topology.ts';

const BUCKET = 'capstan-media-test';
const bound = (route: TaskRoute) => bindPattern(route.eventPattern, { mediaBucket: BUCKET });
const route = (name: string): TaskRoute => {
  const found = TASK_ROUTES.find((r) => r.name === name);
  if (!found) throw new Error(`no route ${name}`);
  return found;
};

const s3Event = (bucket: string, key: string) =>
  s3ObjectCreatedEvent(
    { bucket, key, size: 812, etag: 'ef'.repeat(16), sequencer: '0062E99A88DC407460', requestId: 'R1', sourceIpAddress: '10.0.0.1', reason: 'PutObject', time: new Date() },
    { account: '111122223333', region: 'eu-west-1' },
  );

const integrationEvent = (type: IntegrationEvent['type'], data: Record<string, unknown> = {}): IntegrationEvent => ({
  id: '01J00000000000000000000000',
  type,
  recording_id: 'rec_01J00000000000000000000000',
  tenant_id: 'tenant-a',
  sequence: 7,
  occurred_at: '2026-03-01T10:00:00.000Z',
  source_type: 'rtp',
  metadata: {},
  data,
});

describe('TASK_ROUTES', () => {
  it('have unique names, also against the queue routes (they share the rule namespace)', () => {
    const names = [...ROUTES, ...TASK_ROUTES].map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(TASK_ROUTES.map((r) => [r.name, r] as const))('%s: a supported pattern once bound, valid input paths, a known task', (_name, r) => {
    expect(() => assertSupportedPattern(bound(r))).not.toThrow();
    expect(JSON.stringify(bound(r))).not.toContain('{{');
    for (const path of Object.values(r.env)) expect(isInputPath(path), path).toBe(true);
    expect(Object.keys(TASKS)).toContain(r.task);
  });

  it('compositor-on-manifest: S3 "Object Created" on the default bus, media bucket, key ending in manifest.json', () => {
    const r = route('compositor-on-manifest');
    expect(r.bus).toBe('default');
    expect(bound(r)).toEqual({
      source: ['aws.s3'],
      'detail-type': ['Object Created'],
      detail: { bucket: { name: [BUCKET] }, object: { key: [{ suffix: 'manifest.json' }] } },
    });
    const manifest = s3Event(BUCKET, 'tenant-a/rec_1/manifest.json');
    expect(matchesPattern(bound(r), manifest)).toBe(true);
    expect(environmentFrom(r.env, manifest)).toEqual({
      env: { CAPSTAN_COMPOSITOR_BUCKET: BUCKET, CAPSTAN_COMPOSITOR_MANIFEST_KEY: 'tenant-a/rec_1/manifest.json' },
      missing: [],
    });
    expect(matchesPattern(bound(r), s3Event(BUCKET, 'tenant-a/rec_1/tracks/trk_1.webm'))).toBe(false);
    expect(matchesPattern(bound(r), s3Event(BUCKET, 'tenant-a/rec_1/manifest.json.partial'))).toBe(false);
    expect(matchesPattern(bound(r), s3Event('another-bucket', 'tenant-a/rec_1/manifest.json'))).toBe(false);
  });

  it('compositor-on-request: composition.requested through the API on the Capstan bus, ids from the IntegrationEvent detail', () => {
    const r = route('compositor-on-request');
    expect(r.bus).toBe('capstan');
    expect(bound(r)).toEqual({ source: [EVENT_SOURCE], 'detail-type': ['composition.requested'], detail: { data: { trigger: ['api'] } } });
    const requested = envelope(integrationEvent('composition.requested', { composition_id: 'cmp_1', layout: null, trigger: 'api' }), { id: 'e-1' });
    expect(matchesPattern(bound(r), requested)).toBe(true);
    expect(environmentFrom(r.env, requested)).toEqual({
      env: { CAPSTAN_COMPOSITOR_RECORDING_ID: 'rec_01J00000000000000000000000', CAPSTAN_COMPOSITOR_COMPOSITION_ID: 'cmp_1' },
      missing: [],
    });
    for (const type of INTEGRATION_EVENT_TYPES.filter((t) => t !== 'composition.requested')) {
      expect(matchesPattern(bound(r), envelope(integrationEvent(type, { trigger: 'api' }), { id: 'e-2' })), type).toBe(false);
    }
    // The manifest job's own announcement of the initial composition starts nothing.
    const initial = envelope(integrationEvent('composition.requested', { composition_id: 'cmp_0', initial: true, trigger: 'manifest' }), { id: 'e-3' });
    expect(matchesPattern(bound(r), initial)).toBe(false);
  });

  it('filters on the trigger the stored CompositionRequested carries into the integration event', () => {
    const stored = (trigger: 'api' | 'manifest'): StoredEvent => ({
      stream_id: 'rec_1',
      version: 12,
      event_id: `ev-${trigger}`,
      type: 'CompositionRequested',
      schema_version: 1,
      occurred_at: '2026-03-01T10:00:00.000Z',
      tenant_id: 'tenant-a',
      correlation_id: null,
      causation_id: null,
      data: { composition_id: 'cmp_1', layout: { preset: 'grid' }, outputs: ['composite.mp4'], initial: trigger === 'manifest', trigger },
    });
    const view = { source: { type: 'rtp' }, metadata: {} } as unknown as RecordingView;
    const published = (trigger: 'api' | 'manifest') => envelope(toIntegrationEvent(stored(trigger), view)!, { id: `e-${trigger}` });
    expect(matchesPattern(bound(route('compositor-on-request')), published('api'))).toBe(true);
    expect(matchesPattern(bound(route('compositor-on-request')), published('manifest'))).toBe(false);
  });

  it('never match each other\'s events', () => {
    const manifest = s3Event(BUCKET, 'a/manifest.json');
    const requested = envelope(integrationEvent('composition.requested', { composition_id: 'cmp_1', trigger: 'api' }), { id: 'e-1' });
    expect(TASK_ROUTES.filter((r) => matchesPattern(bound(r), manifest)).map((r) => r.name)).toEqual(['compositor-on-manifest']);
    expect(TASK_ROUTES.filter((r) => matchesPattern(bound(r), requested)).map((r) => r.name)).toEqual(['compositor-on-request']);
  });

  it('set exactly the variables the compositor job reads for each trigger', () => {
    const manifest = s3Event(BUCKET, 'tenant-a/rec_1/manifest.json');
    const fromManifest = CompositorConfigSchema.parse(environmentFrom(route('compositor-on-manifest').env, manifest).env);
    expect(triggerOf(fromManifest)).toEqual({ kind: 'manifest', bucket: BUCKET, key: 'tenant-a/rec_1/manifest.json' });
    const requested = envelope(integrationEvent('composition.requested', { composition_id: 'cmp_1', trigger: 'api' }), { id: 'e-1' });
    const fromRequest = CompositorConfigSchema.parse(environmentFrom(route('compositor-on-request').env, requested).env);
    expect(triggerOf(fromRequest)).toEqual({ kind: 'request', recording_id: 'rec_01J00000000000000000000000', composition_id: 'cmp_1' });
    expect(taskTriggerEnvNames('compositor').sort()).toEqual([
      'CAPSTAN_COMPOSITOR_BUCKET',
      'CAPSTAN_COMPOSITOR_COMPOSITION_ID',
      'CAPSTAN_COMPOSITOR_MANIFEST_KEY',
      'CAPSTAN_COMPOSITOR_RECORDING_ID',
    ]);
  });
});

describe('bindPattern', () => {
  it('fills placeholders without touching the table', () => {
    const r = route('compositor-on-manifest');
    const before = JSON.stringify(r.eventPattern);
    expect(JSON.stringify(bindPattern(r.eventPattern, { mediaBucket: 'b' }))).toContain('"name":["b"]');
    expect(JSON.stringify(r.eventPattern)).toBe(before);
    expect(before).toContain(PATTERN_PARAMS.mediaBucket);
  });

  it('refuses an unknown placeholder', () => {
    expect(() => bindPattern({ detail: { bucket: { name: ['{{capstan:media-bukket}}'] } } }, { mediaBucket: 'b' })).toThrow(/unknown pattern placeholder/);
  });
});

describe('TASKS', () => {
  it('sizes the compositor as a valid Fargate combination', () => {
    // Fargate: 2 vCPU takes 4–16 GiB in 1 GiB steps; ephemeral storage 21–200 GiB.
    expect(TASKS.compositor.cpu).toBe(2048);
    expect(TASKS.compositor.memoryMiB % 1024).toBe(0);
    expect(TASKS.compositor.memoryMiB).toBeGreaterThanOrEqual(4096);
    expect(TASKS.compositor.memoryMiB).toBeLessThanOrEqual(16384);
    expect(TASKS.compositor.ephemeralStorageGiB).toBeGreaterThanOrEqual(21);
    expect(TASKS.compositor.ephemeralStorageGiB).toBeLessThanOrEqual(200);
    expect(TASKS.compositor.command.at(-1)).toBe('recorder-task/compositor/main.ts');
  });
});
