/**
 * The integration-event vocabulary: EventBridge `source` and `detail-type` strings.
 * The publisher and the CDK rules both import this module, so a rename cannot drift.
 */
export const EVENT_SOURCE = 'capstan.recordings' as const;

export const INTEGRATION_EVENT_TYPES = [
  'recording.requested',
  'recording.started',
  'recording.paused',
  'recording.resumed',
  'recording.stopped',
  'recording.completed',
  'recording.failed',
  'recording.deleted',
  'track.recorded',
  'composition.requested',
  'composition.started',
  'composition.progress',
  'composition.completed',
  'composition.failed',
  'transcript.ready',
] as const;

export type IntegrationEventType = (typeof INTEGRATION_EVENT_TYPES)[number];
