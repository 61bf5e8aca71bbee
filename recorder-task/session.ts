/**
 * One recording on one recorder: a UDP port pair, the hot-path router, the segment roller
 * and uploader, a watch on the recording's event stream (tracks registered, stop requested),
 * inactivity and max-duration timers, and finalization at the end.
 */
import type { EventStore } from '../shared/eventstore/port.ts';
import type { Logger } from '../shared/logger.ts';
import { recordingCodec } from '../shared/recording/codec.ts';
import type { RecordingService } from '../shared/recording/service.ts';
import { foldRecording, type RecordingView } from '../shared/recording/view.ts';
import type { S3Client } from '@aws-sdk/client-s3';
import type { RecorderConfig } from './config.ts';
import { segmentKey } from './finalize/finalize.ts';
import { finalizeOnWorker } from './finalize/run-finalize.ts';
import { IngestRouter } from './ingest/router.ts';
import { bindPair, type BoundPair } from './ingest/sockets.ts';
import { SegmentRoller } from './segments/segment-buffer.ts';
import { s3PutSegment, SegmentUploader } from './segments/uploader.ts';
import type { RecordKind } from './segments/format.ts';

export type StopReason = 'api' | 'inactivity' | 'max_duration' | 'shutdown';

/** One spill directory per recording, so a later process can find and upload what is left. */
export const spillDirOf = (config: RecorderConfig, recordingId: string): string => `${config.CAPSTAN_RECORDER_SPILL_DIR}/${recordingId}`;

export interface SessionDeps {
  readonly config: RecorderConfig;
  readonly store: EventStore;
  readonly service: RecordingService;
  readonly s3: S3Client;
  readonly logger: Logger;
}

export class RecordingSession {
  readonly router: IngestRouter;
  private readonly roller: SegmentRoller;
  private readonly uploader: SegmentUploader;
  private readonly timers: NodeJS.Timeout[] = [];
  /** Event writes started off the hot path (gap records); finalization waits for them. */
  private readonly pendingWrites = new Set<Promise<unknown>>();
  private version: number;
  private stopping: Promise<void> | undefined;
  private resolveEnded!: () => void;
  private rejectEnded!: (error: unknown) => void;
  /** Settles when the session has stopped and finalized, whatever stopped it. */
  readonly ended = new Promise<void>((resolve, reject) => {
    this.resolveEnded = resolve;
    this.rejectEnded = reject;
  });
  readonly startedAtMs = Date.now();
  stopReason: StopReason | undefined;

  private constructor(
    private readonly deps: SessionDeps,
    readonly view: RecordingView,
    readonly sockets: BoundPair,
    version: number,
  ) {
    this.version = version;
    const { config } = deps;
    const log = deps.logger.child({ recordingId: view.id });
    this.uploader = new SegmentUploader({
      put: s3PutSegment(deps.s3, config.CAPSTAN_BUCKET),
      key: (index) => segmentKey(view, index),
      spillDir: spillDirOf(config, view.id),
      spillLimitBytes: config.CAPSTAN_RECORDER_SPILL_MAX_BYTES,
      logger: log,
      onGap: (gap) => {
        log.error('segment dropped: spill limit reached while S3 is unavailable', { index: gap.index, packets: gap.packets, bytes: gap.bytes });
        const write = this.deps.service
          .system(view.id, view.tenant_id, (now) => ({
            type: 'RecordCaptureGap',
            metadata: { now },
            data: { reason: 'spill_limit', segment_index: gap.index, packets: gap.packets, bytes: gap.bytes, from: new Date(gap.firstReceivedAtMs).toISOString(), to: new Date(gap.lastReceivedAtMs).toISOString() },
          }))
          .catch((error: unknown) => log.error('could not record the gap', { error }));
        this.pendingWrites.add(write);
        void write.finally(() => this.pendingWrites.delete(write));
      },
    });
    this.roller = new SegmentRoller({
      recordingId: view.id,
      segmentSeconds: config.CAPSTAN_RECORDER_SEGMENT_SECONDS,
      sink: (segment) => this.uploader.enqueue(segment),
      logger: log,
    });
    this.router = new IngestRouter({
      maxDatagramBytes: config.CAPSTAN_RECORDER_MAX_DATAGRAM_BYTES,
      holdMs: config.CAPSTAN_RECORDER_UNKNOWN_SSRC_HOLD_SECONDS * 1000,
      holdBytes: config.CAPSTAN_RECORDER_UNKNOWN_SSRC_HOLD_BYTES,
      sink: { append: (kind, atMs, data) => this.roller.append(kind as RecordKind, atMs, data) },
      onLatch: (trackId, ssrc) => log.info('track latched to SSRC', { trackId, ssrc }),
    });
    this.router.registerTracks(view.tracks);
    // The hot path: one synchronous call per datagram.
    sockets.rtp.on('message', (data) => this.router.onRtpPort(data, Date.now()));
    sockets.rtcp.on('message', (data) => this.router.onRtcpPort(data, Date.now()));
  }

  /** Bind a port pair, claim the recording with its ingest endpoint, and start capturing. */
  static async start(deps: SessionDeps, recordingId: string, tenantId: string, port: number): Promise<RecordingSession> {
    const { config } = deps;
    const sockets = await bindPair(config.CAPSTAN_RECORDER_BIND_HOST, port, config.CAPSTAN_RECORDER_RECV_BUFFER_BYTES);
    if (sockets.recvBufferBytes < config.CAPSTAN_RECORDER_RECV_BUFFER_BYTES) {
      deps.logger.warn('kernel capped the UDP receive buffer below the configured size (raise net.core.rmem_max)', {
        requestedBytes: config.CAPSTAN_RECORDER_RECV_BUFFER_BYTES,
        grantedBytes: sockets.recvBufferBytes,
      });
    }
    try {
      const ingest = { protocol: 'rtp' as const, host: config.CAPSTAN_RECORDER_PUBLIC_HOST, port, rtcp_port: port + 1 };
      await deps.service.system(recordingId, tenantId, (now) => ({ type: 'ClaimRecording', metadata: { now }, data: { recorder_id: config.CAPSTAN_RECORDER_ID, ingest } }));
      const result = await deps.service.system(recordingId, tenantId, (now) => ({ type: 'StartRecording', metadata: { now }, data: {} }));
      const view = foldRecording(result.events)!;
      const session = new RecordingSession(deps, view, sockets, result.version);
      session.startTimers();
      deps.logger.info('recording started', { recordingId, port, recvBufferBytes: sockets.recvBufferBytes });
      return session;
    } catch (error) {
      await sockets.close();
      throw error;
    }
  }

  private startTimers(): void {
    const { config } = this.deps;
    this.roller.start();
    this.timers.push(
      setInterval(() => {
        const now = Date.now();
        this.router.expireHeld(now);
        const idleSince = Math.max(this.router.lastPacketAtMs, this.startedAtMs);
        if (now - idleSince > config.CAPSTAN_RECORDER_INACTIVITY_SECONDS * 1000) this.stop('inactivity').catch(() => {}); // the error reaches the worker through `ended`
        if (now - this.startedAtMs > config.CAPSTAN_RECORDER_MAX_DURATION_SECONDS * 1000) this.stop('max_duration').catch(() => {});
      }, 1000),
      setInterval(() => void this.watch().catch((error: unknown) => this.deps.logger.warn('event watch failed', { recordingId: this.view.id, error })), config.CAPSTAN_RECORDER_WATCH_MS),
    );
  }

  /** New events on the recording's stream: tracks to route, a stop to obey. */
  private async watch(): Promise<void> {
    if (this.stopping) return;
    const events = await this.deps.store.readStream(this.view.id, { afterVersion: this.version });
    for (const stored of events) {
      this.version = stored.version;
      const event = recordingCodec.decode(stored);
      if (event.type === 'TracksRegistered') this.router.registerTracks(event.data.tracks);
      if (event.type === 'RecordingStopRequested' || event.type === 'RecordingFailed' || event.type === 'RecordingDeleted') this.stop('api').catch(() => {});
    }
  }

  get stats() {
    return { router: this.router, uploader: this.uploader.stats, roller: this.roller.stats };
  }

  /** Stop capturing, upload every segment, finalize. Idempotent. */
  stop(reason: StopReason): Promise<void> {
    this.stopping ??= this.finish(reason).then(this.resolveEnded, (error: unknown) => {
      this.rejectEnded(error);
      throw error;
    });
    return this.stopping;
  }

  private async finish(reason: StopReason): Promise<void> {
    this.stopReason = reason;
    const log = this.deps.logger.child({ recordingId: this.view.id });
    for (const timer of this.timers) clearInterval(timer);
    await this.sockets.close();
    this.roller.stop();
    this.roller.flush();
    // Drain in 60 % of the stop budget, leaving the rest for finalization before the forced exit.
    const drained = await this.uploader.drain(this.deps.config.CAPSTAN_RECORDER_STOP_TIMEOUT_SECONDS * 600);
    if (!drained.drained) log.error('segments still pending at stop', { pendingUploads: drained.pendingUploads, spillBytes: drained.spillBytes });
    await this.uploader.close();
    await Promise.allSettled([...this.pendingWrites]);
    if (reason !== 'api') {
      await this.deps.service.system(this.view.id, this.view.tenant_id, (now) => ({
        type: 'StopRecording',
        metadata: { now },
        data: { reason: reason === 'shutdown' ? 'shutdown' : reason },
      }));
    }
    const view = foldRecording(await this.deps.store.readStream(this.view.id))!;
    if (view.status === 'failed' || view.status === 'deleted') {
      log.info('recording ended without finalization', { status: view.status });
      return;
    }
    const r = this.router;
    await finalizeOnWorker({
      config: this.deps.config,
      recordingId: this.view.id,
      stopReason: reason,
      recovered: false,
      counters: { datagrams: r.counters.datagrams, bytes: r.counters.bytes, rtp: r.counters.rtp, rtcp: r.counters.rtcp, rtcp_muxed: r.counters.rtcpMuxed, unknown_ssrc_packets: r.counters.unknownSsrcPackets, ssrc_changes: r.counters.ssrcChanges, ...prefixed('dropped_', r.dropped) },
    });
  }
}

function prefixed(prefix: string, values: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [`${prefix}${k}`, v]));
}
