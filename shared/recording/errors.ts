/** Errors the recording domain raises. Only the HTTP edge maps them to status codes. */
import type { RecordingStatus } from './model.ts';

export class RecordingNotFoundError extends Error {
  constructor(readonly recordingId: string, options?: ErrorOptions) {
    super(`recording ${recordingId} does not exist`, options);
    this.name = 'RecordingNotFoundError';
  }
}

export class InvalidTransitionError extends Error {
  constructor(
    readonly command: string,
    readonly status: RecordingStatus,
    readonly hint?: string,
  ) {
    super(`cannot ${command} a recording that is ${status}${hint ? `: ${hint}` : ''}`);
    this.name = 'InvalidTransitionError';
  }
}

export class IdempotencyConflictError extends Error {
  constructor(readonly idempotencyKey: string | null) {
    super(
      idempotencyKey
        ? `Idempotency-Key "${idempotencyKey}" was already used with a different request body`
        : 'a recording with this id already exists',
    );
    this.name = 'IdempotencyConflictError';
  }
}

export class TrackConflictError extends Error {
  constructor(readonly ssrc: number | null, readonly detail: string, payloadType?: number) {
    super(`${ssrc === null ? `a track without SSRC on payload type ${payloadType}` : `SSRC ${ssrc}`} is already registered ${detail}`);
    this.name = 'TrackConflictError';
  }
}

export class CompositionNotFoundError extends Error {
  constructor(readonly compositionId: string) {
    super(`composition ${compositionId} does not exist`);
    this.name = 'CompositionNotFoundError';
  }
}

/** Another compositor holds the composition and was heard from within its lease. */
export class CompositionBusyError extends Error {
  constructor(readonly compositionId: string, readonly holder: string) {
    super(`composition ${compositionId} is being rendered by ${holder}`);
    this.name = 'CompositionBusyError';
  }
}

export class ArtifactNotFoundError extends Error {
  constructor(readonly artifactName: string) {
    super(`artifact ${artifactName} does not exist (yet)`);
    this.name = 'ArtifactNotFoundError';
  }
}
