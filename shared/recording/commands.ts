/** Commands: what a caller asks of a recording. Imperative; time comes in `metadata.now`. */
import type { Artifact, Failure, Ingest, Layout, Metadata, Output, Source, StorageSettings } from './model.ts';
import type { EventOf } from './events.ts';
import type { RecordedTrack, RegisteredTrack, TimelineEntry } from './tracks.ts';

export interface CommandMetadata {
  /** ISO 8601 instant, from the clock port: `decide` never reads the time itself. */
  readonly now: string;
}

type Command<T extends string, D> = { readonly type: T; readonly data: D; readonly metadata: CommandMetadata };

export type RequestRecording = Command<
  'RequestRecording',
  {
    recording_id: string;
    tenant_id: string;
    source: Source;
    recording_name: string | null;
    metadata: Metadata;
    storage_settings: StorageSettings;
    webhook_url: string | null;
    outputs: Output[];
    layout: Layout;
    request_hash: string;
    idempotency_key: string | null;
  }
>;
export type ClaimRecording = Command<'ClaimRecording', { recorder_id: string; ingest?: Ingest }>;
export type StartRecording = Command<'StartRecording', Record<string, never>>;
export type PauseRecording = Command<'PauseRecording', { reason: string | null }>;
export type ResumeRecording = Command<'ResumeRecording', Record<string, never>>;
export type StopRecording = Command<'StopRecording', { reason: EventOf<'RecordingStopRequested'>['data']['reason'] }>;
export type FinishCapture = Command<'FinishCapture', { duration_seconds?: number; manifest?: { key: string; bytes: number; sha256: string } }>;
export type CompleteRecording = Command<'CompleteRecording', { artifacts: Artifact[]; duration_seconds: number }>;
export type FailRecording = Command<'FailRecording', Failure>;
export type DeleteRecording = Command<'DeleteRecording', { reason: string | null }>;
export type RegisterTracks = Command<'RegisterTracks', { tracks: RegisteredTrack[] }>;
export type RecordRoomEvents = Command<'RecordRoomEvents', { events: TimelineEntry[] }>;
export type RecordTrack = Command<'RecordTrack', RecordedTrack>;
export type RecordCaptureGap = Command<'RecordCaptureGap', EventOf<'CaptureGapRecorded'>['data']>;
export type InterruptRecording = Command<'InterruptRecording', { recorder_id: string; reason: string }>;
export type RecoverRecording = Command<'RecoverRecording', EventOf<'RecordingRecovered'>['data']>;

/** Ask for a composition (the API); a failed one is asked again. */
export type RequestComposition = Command<
  'RequestComposition',
  { composition_id: string; layout: Layout; outputs: Output[]; initial: boolean }
>;
/**
 * A compositor takes a composition. The manifest trigger names the initial composition,
 * which is requested on the spot if nobody asked for it yet.
 */
export type StartComposition = Command<
  'StartComposition',
  { composition_id: string; compositor_id: string; lease_seconds: number; request?: { layout: Layout; outputs: Output[] } }
>;
export type ReportCompositionProgress = Command<'ReportCompositionProgress', { composition_id: string; compositor_id: string; percent: number }>;
export type CompleteComposition = Command<
  'CompleteComposition',
  { composition_id: string; compositor_id: string; artifacts: Artifact[]; duration_seconds: number }
>;
export type FailComposition = Command<'FailComposition', Failure & { composition_id: string; compositor_id: string }>;

export type RecordingCommand =
  | RequestRecording
  | ClaimRecording
  | StartRecording
  | PauseRecording
  | ResumeRecording
  | StopRecording
  | FinishCapture
  | CompleteRecording
  | FailRecording
  | DeleteRecording
  | RegisterTracks
  | RecordRoomEvents
  | RecordTrack
  | RecordCaptureGap
  | InterruptRecording
  | RecoverRecording
  | RequestComposition
  | StartComposition
  | ReportCompositionProgress
  | CompleteComposition
  | FailComposition;
