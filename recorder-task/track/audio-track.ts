/** Ordered Opus RTP packets → an Ogg Opus file, placed in time by their RTP timestamps. */
import { OPUS_SAMPLE_RATE, OggOpusWriter, opusPacketIsStereo, opusPacketSamples } from './ogg-opus.ts';
import type { OrderedPacket } from './packets.ts';
import { FileSink } from './sink.ts';

export interface OggOpusFile {
  /** Opus packets written (silence fill not included). */
  readonly frames: number;
  readonly silenceFrames: number;
  /** Packets whose payload is not an Opus packet (empty or a bad TOC), skipped. */
  readonly invalidPackets: number;
  readonly durationSamples: number;
}

export interface OggOpusTarget {
  readonly path: string;
  readonly clockRate: number;
  /** From the SDP; without it, stereo if any packet was coded as stereo. */
  readonly channels?: number;
  readonly serialNumber: number;
}

/** Packets looked at to guess the channel count when none is given. */
const STEREO_PROBE_PACKETS = 500;

/**
 * Encoder priming shown by the timestamps: when the second packet follows the first by less
 * than the first one's length, the difference is audio from before the first RTP timestamp.
 */
const primingSamples = (packets: readonly OrderedPacket[], samplesPerTick: number): number => {
  const [first, second] = packets;
  if (first === undefined || second === undefined || second.extendedSequence !== first.extendedSequence + 1) return 0;
  const firstSamples = opusPacketSamples(first.payload);
  const gapSamples = Math.round((second.extendedTimestamp - first.extendedTimestamp) * samplesPerTick);
  return gapSamples > 0 && gapSamples < firstSamples ? firstSamples - gapSamples : 0;
};

export const writeOggOpus = async (packets: readonly OrderedPacket[], target: OggOpusTarget): Promise<OggOpusFile> => {
  const channels: 1 | 2 =
    target.channels !== undefined
      ? target.channels >= 2
        ? 2
        : 1
      : packets.slice(0, STEREO_PROBE_PACKETS).some((p) => opusPacketIsStereo(p.payload))
        ? 2
        : 1;
  const origin = packets[0]?.extendedTimestamp ?? 0;
  // RFC 7587 fixes Opus's RTP clock at 48 kHz; scale anyway if a sender announced another.
  const samplesPerTick = OPUS_SAMPLE_RATE / target.clockRate;
  const preSkipSamples = primingSamples(packets, samplesPerTick);
  const sink = await FileSink.create(target.path);
  try {
    const writer = new OggOpusWriter(sink, { channels, serialNumber: target.serialNumber, preSkipSamples });
    let frames = 0;
    let invalidPackets = 0;
    for (const packet of packets) {
      const startSample = Math.round((packet.extendedTimestamp - origin) * samplesPerTick);
      if (writer.writePacket(packet.payload, startSample)) frames++;
      else invalidPackets++;
      await sink.drain();
    }
    writer.close();
    return { frames, silenceFrames: writer.silenceFrames, invalidPackets, durationSamples: writer.durationSamples };
  } finally {
    await sink.close();
  }
};
