/**
 * Errors of track finalization. Callers match on the class (and `reason`), never on the
 * message. All of them are our side's fault or the sender's media, never the customer's
 * destination: uploading is not done here.
 */

/** The ffmpeg binary is not installed or not on PATH: a broken image, not a broken track. */
export class FfmpegMissingError extends Error {
  constructor(
    readonly ffmpegPath: string,
    options?: ErrorOptions,
  ) {
    super(`ffmpeg not found at "${ffmpegPath}"`, options);
    this.name = 'FfmpegMissingError';
  }
}

/** ffmpeg ran and failed (or was killed at the time limit); `stderrTail` holds its last lines. */
export class FfmpegFailedError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly signal: string | null,
    readonly stderrTail: string,
    options?: ErrorOptions,
  ) {
    super(`ffmpeg ${signal !== null ? `killed by ${signal}` : `exited ${exitCode}`}: ${stderrTail || '(no stderr)'}`, options);
    this.name = 'FfmpegFailedError';
  }
}

export type EmptyTrackReason = 'no_packets' | 'no_decodable_frames';

/** Nothing playable came in: no valid RTP at all, or no complete keyframe for video. */
export class EmptyTrackError extends Error {
  constructor(
    readonly reason: EmptyTrackReason,
    detail: string,
  ) {
    super(`track has no playable media (${reason}): ${detail}`);
    this.name = 'EmptyTrackError';
  }
}
