/**
 * Ogg Opus (RFC 7845) from RTP Opus packets (RFC 7587: one Opus packet per RTP packet, 48 kHz
 * clock whatever the input rate). Granule positions come from RTP timestamps, so time survives
 * loss and DTX: a hole is filled with CELT silence frames, which decode to digital silence
 * instead of the fade-out a decoder invents for a lost packet. What a whole number of silence
 * frames cannot cover (< 2.5 ms) becomes a small granule jump at a page boundary.
 */
import { OggPageWriter } from './ogg.ts';
import type { ByteSink } from './sink.ts';

export const OPUS_SAMPLE_RATE = 48_000;

/**
 * A CELT-only, code-0 (one frame) packet whose payload 0xff 0xfe decodes as silence; the TOC
 * byte's configuration picks the length: 31 → 20 ms, 30 → 10 ms, 29 → 5 ms, 28 → 2.5 ms.
 */
const SILENCE_FRAMES: readonly { samples: number; packet: Uint8Array }[] = [
  { samples: 960, packet: Uint8Array.of(0xf8, 0xff, 0xfe) },
  { samples: 480, packet: Uint8Array.of(0xf0, 0xff, 0xfe) },
  { samples: 240, packet: Uint8Array.of(0xe8, 0xff, 0xfe) },
  { samples: 120, packet: Uint8Array.of(0xe0, 0xff, 0xfe) },
];
export const OPUS_SILENCE_FRAME_20MS = SILENCE_FRAMES[0]!.packet;

/** Frame length by TOC configuration (RFC 6716 §3.1), in 48 kHz samples. */
const frameSamples = (config: number): number => {
  if (config < 12) return [480, 960, 1920, 2880][config % 4]!; // SILK 10/20/40/60 ms
  if (config < 16) return [480, 960][config % 2]!; // hybrid 10/20 ms
  return [120, 240, 480, 960][config % 4]!; // CELT 2.5/5/10/20 ms
};

/** Samples (48 kHz) one Opus packet decodes to; 0 for a packet that is not valid Opus. */
export const opusPacketSamples = (packet: Uint8Array): number => {
  const toc = packet[0];
  if (toc === undefined) return 0;
  const code = toc & 0x03;
  const frames = code === 0 ? 1 : code === 3 ? (packet[1] ?? 0) & 0x3f : 2;
  const samples = frames * frameSamples(toc >> 3);
  // A packet holds at most 120 ms (RFC 6716 §3.2.5).
  return samples <= 5760 ? samples : 0;
};

/** The TOC's stereo flag: whether the encoder coded this packet as two channels. */
export const opusPacketIsStereo = (packet: Uint8Array): boolean => ((packet[0] ?? 0) & 0x04) !== 0;

export interface OggOpusOptions {
  readonly channels: 1 | 2;
  readonly serialNumber: number;
  /**
   * Decoded samples to discard at the start (the encoder's priming). RTP does not carry it;
   * some senders show it as a first packet shorter than its duration (GStreamer: 648 of 960
   * samples), and discarding exactly that keeps file time 0 at the first RTP timestamp.
   */
  readonly preSkipSamples?: number;
}

export class OggOpusWriter {
  private readonly pages: OggPageWriter;
  /** 48 kHz samples written so far: the granule position at the end of the last packet. */
  private positionSamples = 0;
  private readonly preSkipSamples: number;
  private packets = 0;
  silenceFrames = 0;

  constructor(sink: ByteSink, options: OggOpusOptions) {
    this.pages = new OggPageWriter(sink, options.serialNumber);
    this.preSkipSamples = options.preSkipSamples ?? 0;
    // ID header (RFC 7845 §5.1).
    const head = Buffer.alloc(19);
    head.write('OpusHead', 0, 'ascii');
    head[8] = 1; // version
    head[9] = options.channels;
    head.writeUInt16LE(this.preSkipSamples, 10);
    head.writeUInt32LE(OPUS_SAMPLE_RATE, 12); // input rate, informational
    head.writeInt16LE(0, 16); // output gain, Q7.8 dB
    head[18] = 0; // channel mapping family 0: mono or stereo, no mapping table
    this.pages.writePacket(head, 0);
    this.pages.flush();
    const vendor = Buffer.from('capstan', 'utf8');
    const tags = Buffer.alloc(8 + 4 + vendor.length + 4);
    tags.write('OpusTags', 0, 'ascii');
    tags.writeUInt32LE(vendor.length, 8);
    vendor.copy(tags, 12);
    tags.writeUInt32LE(0, 12 + vendor.length); // no user comments
    this.pages.writePacket(tags, 0);
    this.pages.flush();
  }

  /**
   * `startSample`: where this packet begins, in 48 kHz samples from the start of the track
   * (its RTP timestamp minus the first one). Returns false for a packet that is not Opus.
   * Call in sending order.
   */
  writePacket(packet: Uint8Array, startSample: number): boolean {
    const samples = opusPacketSamples(packet);
    if (samples === 0) return false;
    // Granule positions count the pre-skip, which sits inside the first packet (at granule 0).
    const target = this.packets++ === 0 ? startSample : startSample + this.preSkipSamples;
    for (const silence of SILENCE_FRAMES) {
      while (target - this.positionSamples >= silence.samples) {
        this.positionSamples += silence.samples;
        this.pages.writePacket(silence.packet, this.positionSamples);
        this.silenceFrames++;
      }
    }
    if (target > this.positionSamples) {
      // End the page before the jump, so the granule of every page matches the packets on it.
      this.pages.flush();
      this.positionSamples = target;
    }
    // A packet that starts early (overlapping timestamps) is played right after its predecessor.
    this.positionSamples += samples;
    this.pages.writePacket(packet, this.positionSamples);
    return true;
  }

  /** Playable samples: the last granule position minus the pre-skip. */
  get durationSamples(): number {
    return Math.max(0, this.positionSamples - this.preSkipSamples);
  }

  close(): void {
    this.pages.close();
  }
}
