/**
 * Ordered video RTP packets → whole, decodable frames (werift depacketizers for H.264 and
 * VP9; VP8 and the VP9 keyframe flag are read here, see codec-headers.ts for why).
 *
 * A frame is the run of packets sharing one RTP timestamp; the marker bit ends it (RFC 3550:
 * "the end of a frame"). werift's `isFinalPacketInSequence` must be the marker for video, else
 * keyframes are split; grouping here does the same. A frame is written only if it is whole:
 * it starts at a frame head (VP8 S=1/PID=0, VP9 B=1, H.264 not an FU-A continuation), its
 * sequence numbers are contiguous and it ends with the marker. After any loss, frames are
 * skipped until the next whole keyframe: a frame that references lost data would make every
 * decoder print errors and smear the picture until then anyway.
 */
import { H264RtpPayload, RtpHeader, RtpPacket, Vp9RtpPayload, dePacketizeRtpPackets } from 'werift-rtp';
import { vp8Depacketize, vp8IsKeyframe, vp8StartsFrame, vp9IsKeyframe } from './codec-headers.ts';
import type { OrderedPacket } from './packets.ts';

export type VideoCodec = 'vp8' | 'vp9' | 'h264';

export interface VideoFrame {
  readonly data: Buffer;
  readonly extendedTimestamp: number;
  readonly isKeyframe: boolean;
}

export interface VideoFrames {
  readonly frames: VideoFrame[];
  readonly keyframes: number;
  /** Frames not written: incomplete, undecodable, or waiting for a keyframe after loss. */
  readonly droppedFrames: number;
}

const startsFrame = (codec: VideoCodec, payload: Buffer): boolean => {
  if (payload.length === 0) return false;
  switch (codec) {
    case 'vp8':
      return vp8StartsFrame(payload);
    case 'vp9':
      return Vp9RtpPayload.deSerialize(payload).bBit === 1;
    case 'h264':
      return payload.length >= 2 && H264RtpPayload.deSerialize(payload).isPartitionHead;
    default: {
      const unknown: never = codec;
      throw new Error(`unknown codec ${String(unknown)}`);
    }
  }
};

/** Packets of one frame, and whether the packet before it was lost. */
const groupFrames = (packets: readonly OrderedPacket[]): { packets: OrderedPacket[]; lossBefore: boolean }[] => {
  const groups: { packets: OrderedPacket[]; lossBefore: boolean }[] = [];
  let previous: OrderedPacket | undefined;
  for (const packet of packets) {
    const current = groups.at(-1);
    if (current !== undefined && previous !== undefined && !previous.marker && previous.extendedTimestamp === packet.extendedTimestamp) {
      current.packets.push(packet);
    } else {
      groups.push({ packets: [packet], lossBefore: previous !== undefined && packet.extendedSequence !== previous.extendedSequence + 1 });
    }
    previous = packet;
  }
  return groups;
};

const isWhole = (codec: VideoCodec, packets: readonly OrderedPacket[]): boolean => {
  const first = packets[0];
  const last = packets.at(-1);
  if (first === undefined || last === undefined || !last.marker) return false;
  if (last.extendedSequence - first.extendedSequence + 1 !== packets.length) return false;
  return startsFrame(codec, first.payload);
};

const depacketize = (codec: VideoCodec, packets: readonly OrderedPacket[]): { data: Buffer; isKeyframe: boolean } | undefined => {
  if (codec === 'vp8') {
    const data = vp8Depacketize(packets.map((p) => p.payload));
    return data && { data, isKeyframe: vp8IsKeyframe(data) };
  }
  // werift needs only payloads, sequence numbers and timestamps; its isFinalPacketInSequence is moot: frames come whole.
  const rtp = packets.map((p) => new RtpPacket(new RtpHeader({ sequenceNumber: p.sequence, timestamp: p.timestamp, marker: p.marker, payloadType: p.payloadType }), p.payload));
  const { data, isKeyframe } = dePacketizeRtpPackets(codec === 'vp9' ? 'VP9' : 'MPEG4/ISO/AVC', rtp);
  return { data, isKeyframe: codec === 'vp9' ? vp9IsKeyframe(data) : isKeyframe };
};

export const assembleVideoFrames = (codec: VideoCodec, packets: readonly OrderedPacket[]): VideoFrames => {
  const frames: VideoFrame[] = [];
  let keyframes = 0;
  let droppedFrames = 0;
  let needKeyframe = true;
  for (const group of groupFrames(packets)) {
    const first = group.packets[0]!;
    let frame: { data: Buffer; isKeyframe: boolean } | undefined;
    try {
      if (isWhole(codec, group.packets)) frame = depacketize(codec, group.packets);
    } catch {
      // werift reads past the end of some malformed payloads (e.g. a STAP-A with a bad size).
      frame = undefined;
    }
    const lastWritten = frames.at(-1);
    const inOrder = lastWritten === undefined || first.extendedTimestamp > lastWritten.extendedTimestamp;
    if (frame === undefined || frame.data.length === 0 || !inOrder) {
      droppedFrames++;
      needKeyframe = true;
      continue;
    }
    if (group.lossBefore) needKeyframe = true;
    if (needKeyframe && !frame.isKeyframe) {
      droppedFrames++;
      continue;
    }
    needKeyframe = false;
    if (frame.isKeyframe) keyframes++;
    frames.push({ data: frame.data, extendedTimestamp: first.extendedTimestamp, isKeyframe: frame.isKeyframe });
  }
  return { frames, keyframes, droppedFrames };
};
