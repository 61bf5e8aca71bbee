/** Errors of the segment layer. Callers match on the class and `reason`, never on the message. */

export type SegmentFormatReason = 'truncated_header' | 'bad_magic' | 'unsupported_version';

/** The bytes are not a Capstan segment (or not one this code can read): nothing in it is trusted. */
export class SegmentFormatError extends Error {
  constructor(
    readonly reason: SegmentFormatReason,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`not a readable segment (${reason}): ${detail}`, options);
    this.name = 'SegmentFormatError';
  }
}
