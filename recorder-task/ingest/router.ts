/**
 * The hot path: one call per datagram, no awaits, no I/O. It parses only the fixed RTP
 * header, routes by SSRC, counts what it sees, and appends the datagram to the recording's
 * segment log. Depacketizing and containers happen at finalization, off this path.
 *
 * Unknown SSRCs are held aside (bounded in time and bytes) so a late track registration
 * still gets their first packets; a registration without an SSRC (ffmpeg's SDP has none)
 * latches the first unknown SSRC that carries its payload type.
 */
import { isRtcp, parseRtpHeader, MALFORMED_REASONS, type MalformedReason } from '../rtp/header.ts';
import type { RegisteredTrack } from '../../shared/recording/tracks.ts';
import { SsrcStats } from './ssrc-stats.ts';

export const RECORD_RTP = 1;
export const RECORD_RTCP = 2;

export interface PacketSink {
  append(kind: typeof RECORD_RTP | typeof RECORD_RTCP, receivedAtMs: number, data: Buffer): void;
}

export type DropReason = MalformedReason | 'unknown_ssrc_expired' | 'unknown_ssrc_overflow' | 'rtcp_malformed';

interface Held {
  packets: { atMs: number; data: Buffer }[];
  bytes: number;
  firstAtMs: number;
  payloadType: number;
}

export interface RouterOptions {
  readonly maxDatagramBytes: number;
  readonly holdMs: number;
  readonly holdBytes: number;
  readonly sink: PacketSink;
  /** Called when a registration without SSRC latches one, so the session can remember it. */
  readonly onLatch?: (trackId: string, ssrc: number) => void;
  /** Distinct unknown SSRCs held at once; packets of further ones are dropped (unknown_ssrc_overflow). */
  readonly maxHeldSsrcs?: number;
}

/**
 * Enough for every sender of a large room to start before its registration; small enough that
 * a flood of random SSRCs (one per datagram) cannot grow the recorder's memory without bound.
 */
export const DEFAULT_MAX_HELD_SSRCS = 1024;

export class IngestRouter {
  /** SSRC → track id, for registered (or latched) tracks. */
  readonly routes = new Map<number, string>();
  /** Live stats of routed SSRCs only (held packets count when released): per-SSRC state costs ≈ 16 KiB. */
  readonly ssrcStats = new Map<number, SsrcStats>();
  readonly dropped: Record<DropReason, number> = Object.fromEntries(
    [...MALFORMED_REASONS, 'unknown_ssrc_expired', 'unknown_ssrc_overflow', 'rtcp_malformed'].map((r) => [r, 0]),
  ) as Record<DropReason, number>;
  readonly counters = { datagrams: 0, bytes: 0, rtp: 0, rtcp: 0, rtcpMuxed: 0, unknownSsrcPackets: 0, ssrcChanges: 0, heldBytes: 0 };
  lastPacketAtMs = 0;
  private readonly held = new Map<number, Held>();
  /** Registrations still waiting for an SSRC: payload type → track ids. */
  private readonly latchable = new Map<number, string[]>();
  private readonly latchedPayloadTypes = new Set<number>();

  constructor(private readonly options: RouterOptions) {}

  /** A datagram on the RTP port (RTCP may be muxed there: RFC 5761). */
  onRtpPort(data: Buffer, atMs: number): void {
    this.counters.datagrams++;
    this.counters.bytes += data.length;
    this.lastPacketAtMs = atMs;
    if (isRtcp(data)) {
      this.counters.rtcpMuxed++;
      return this.acceptRtcp(data, atMs);
    }
    const header = parseRtpHeader(data, this.options.maxDatagramBytes);
    if (!header.ok) {
      this.dropped[header.reason]++;
      return;
    }
    this.counters.rtp++;
    const ssrc = header.ssrc;
    if (this.routes.has(ssrc) || this.tryLatch(ssrc, header.payloadType)) {
      this.observe(ssrc, header.payloadType, header.sequence, data.length, atMs);
      this.options.sink.append(RECORD_RTP, atMs, data);
      return;
    }
    this.hold(ssrc, header.payloadType, data, atMs);
  }

  /** Stats exist only for routed SSRCs: an unknown SSRC per datagram must not allocate per SSRC. */
  private observe(ssrc: number, payloadType: number, sequence: number, bytes: number, atMs: number): void {
    let stats = this.ssrcStats.get(ssrc);
    if (stats === undefined) {
      stats = new SsrcStats(payloadType, atMs);
      this.ssrcStats.set(ssrc, stats);
    }
    stats.observe(sequence, bytes, atMs);
  }

  /** A datagram on the RTCP port (port + 1). */
  onRtcpPort(data: Buffer, atMs: number): void {
    this.counters.datagrams++;
    this.counters.bytes += data.length;
    if (!isRtcp(data)) {
      this.dropped.rtcp_malformed++;
      return;
    }
    this.acceptRtcp(data, atMs);
  }

  private acceptRtcp(data: Buffer, atMs: number): void {
    if (data.length < 8 || data.length > this.options.maxDatagramBytes) {
      this.dropped.rtcp_malformed++;
      return;
    }
    this.counters.rtcp++;
    // Sender reports are parsed at finalization; keeping the raw datagram keeps the hot path flat.
    this.options.sink.append(RECORD_RTCP, atMs, data);
  }

  registerTracks(tracks: readonly RegisteredTrack[]): void {
    for (const track of tracks) {
      if (track.ssrc !== null) {
        this.routes.set(track.ssrc, track.track_id);
        this.release(track.ssrc);
      } else {
        const waiting = this.latchable.get(track.payload_type) ?? [];
        waiting.push(track.track_id);
        this.latchable.set(track.payload_type, waiting);
        // An SSRC with this payload type may already be held: latch the earliest.
        const candidate = [...this.held].filter(([, h]) => h.payloadType === track.payload_type).sort((a, b) => a[1].firstAtMs - b[1].firstAtMs)[0];
        if (candidate && this.tryLatch(candidate[0], track.payload_type)) this.release(candidate[0]);
      }
    }
  }

  private tryLatch(ssrc: number, payloadType: number): boolean {
    const waiting = this.latchable.get(payloadType);
    const trackId = waiting?.shift();
    if (trackId === undefined) {
      if (this.latchedPayloadTypes.has(payloadType) && !this.held.has(ssrc)) this.counters.ssrcChanges++;
      return false;
    }
    this.routes.set(ssrc, trackId);
    this.latchedPayloadTypes.add(payloadType);
    this.options.onLatch?.(trackId, ssrc);
    return true;
  }

  private hold(ssrc: number, payloadType: number, data: Buffer, atMs: number): void {
    this.counters.unknownSsrcPackets++;
    let held = this.held.get(ssrc);
    if (held === undefined) {
      if (this.held.size >= (this.options.maxHeldSsrcs ?? DEFAULT_MAX_HELD_SSRCS)) {
        this.dropped.unknown_ssrc_overflow++;
        return;
      }
      held = { packets: [], bytes: 0, firstAtMs: atMs, payloadType };
      this.held.set(ssrc, held);
    }
    if (this.counters.heldBytes + data.length > this.options.holdBytes) {
      this.dropped.unknown_ssrc_overflow++;
      return;
    }
    held.packets.push({ atMs, data });
    held.bytes += data.length;
    this.counters.heldBytes += data.length;
  }

  /** Move held packets of a now-known SSRC into the log, in arrival order. */
  private release(ssrc: number): void {
    const held = this.held.get(ssrc);
    if (held === undefined) return;
    for (const p of held.packets) {
      this.observe(ssrc, held.payloadType, p.data.readUInt16BE(2), p.data.length, p.atMs);
      this.options.sink.append(RECORD_RTP, p.atMs, p.data);
    }
    this.counters.heldBytes -= held.bytes;
    this.held.delete(ssrc);
  }

  /** Drop held packets older than the hold time; call about once a second. */
  expireHeld(nowMs: number): void {
    for (const [ssrc, held] of this.held) {
      while (held.packets.length > 0 && nowMs - held.packets[0]!.atMs > this.options.holdMs) {
        const p = held.packets.shift()!;
        held.bytes -= p.data.length;
        this.counters.heldBytes -= p.data.length;
        this.dropped.unknown_ssrc_expired++;
      }
      if (held.packets.length === 0 && nowMs - held.firstAtMs > this.options.holdMs) this.held.delete(ssrc);
    }
  }

  get heldSsrcs(): number[] {
    return [...this.held.keys()];
  }
}
