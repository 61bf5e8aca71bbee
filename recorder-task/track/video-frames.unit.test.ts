/** VP8 streams here cross the 65535 → 0 sequence wrap and the 2^32 timestamp wrap. */
import { describe, expect, it } from 'vitest';
import { vp8DescriptorBytes, vp8Depacketize, vp8KeyframeSize, vp9IsKeyframe } from './codec-headers.ts';
import { IvfWriter } from './ivf-writer.ts';
import { orderPackets, type CapturedPacket } from './packets.ts';
import { MemorySink } from './sink.ts';
import { assembleVideoFrames } from './video-frames.ts';

const TWO_TO_32 = 0x1_0000_0000;
const TICKS_PER_FRAME = 3000; // 30 fps at 90 kHz
const FIRST_TIMESTAMP = TWO_TO_32 - 2 * TICKS_PER_FRAME;

/** A 320×240 VP8 keyframe start (RFC 6386 §9.1) or an inter frame start, then filler. */
const vp8FrameBytes = (key: boolean, index: number): Buffer =>
  key ? Buffer.from([0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00, index]) : Buffer.from([0x01, 0x00, 0x00, index]);

/**
 * Frame i as two RTP packets (sequence 65530 + 2i and + 2i + 1, marker on the second), each
 * with a 1-byte VP8 descriptor: S=1/PID=0 on the first, a continuation on the second.
 */
const vp8Frame = (i: number, key: boolean): CapturedPacket[] => {
  const bytes = vp8FrameBytes(key, i);
  const halves = [bytes.subarray(0, 5), bytes.subarray(5)];
  return halves.map((half, part) => {
    const data = Buffer.alloc(12 + 1 + half.length);
    data[0] = 0x80;
    data[1] = (part === 1 ? 0x80 : 0) | 96;
    data.writeUInt16BE((65530 + 2 * i + part) & 0xffff, 2);
    data.writeUInt32BE((FIRST_TIMESTAMP + i * TICKS_PER_FRAME) % TWO_TO_32, 4);
    data.writeUInt32BE(0x1111, 8);
    data[12] = part === 0 ? 0x10 : 0x00;
    half.copy(data, 13);
    return { receivedAtMs: 1_000 + 33 * i + part, data };
  });
};

const framesOf = (packets: CapturedPacket[]) => assembleVideoFrames('vp8', orderPackets(packets).packets);

describe('assembleVideoFrames (VP8)', () => {
  it('joins each frame from its packets across both wraps, timed by extended timestamps', () => {
    const packets = [vp8Frame(0, true), vp8Frame(1, false), vp8Frame(2, false), vp8Frame(3, false), vp8Frame(4, false)].flat();
    const { frames, keyframes, droppedFrames } = framesOf(packets);
    expect(frames.map((f) => f.data)).toEqual([0, 1, 2, 3, 4].map((i) => vp8FrameBytes(i === 0, i)));
    expect(frames.map((f) => (f.extendedTimestamp - frames[0]!.extendedTimestamp) / TICKS_PER_FRAME)).toEqual([0, 1, 2, 3, 4]);
    expect([keyframes, droppedFrames]).toEqual([1, 0]);
    expect(vp8KeyframeSize(frames[0]!.data)).toEqual({ widthPx: 320, heightPx: 240 });
  });

  it('drops a frame with a lost packet, and what follows until the next keyframe', () => {
    const packets = [vp8Frame(0, true), vp8Frame(1, false), vp8Frame(2, false).slice(1), vp8Frame(3, false), vp8Frame(4, true), vp8Frame(5, false)].flat();
    const { frames, droppedFrames } = framesOf(packets);
    expect(frames.map((f) => f.data.at(-1))).toEqual([0, 1, 4, 5]);
    expect(droppedFrames).toBe(2);
  });

  it('after a whole frame is lost, waits for a keyframe although the next frame is whole', () => {
    const packets = [vp8Frame(0, true), vp8Frame(1, false), vp8Frame(3, false), vp8Frame(4, true)].flat();
    const { frames, droppedFrames } = framesOf(packets);
    expect(frames.map((f) => f.data.at(-1))).toEqual([0, 1, 4]);
    expect(droppedFrames).toBe(1);
  });

  it('drops a frame whose marker packet is lost, and one whose head is lost at the start', () => {
    const packets = [vp8Frame(0, true).slice(1), vp8Frame(1, true).slice(0, 1), vp8Frame(2, true), vp8Frame(3, false)].flat();
    const { frames, droppedFrames } = framesOf(packets);
    expect(frames.map((f) => f.data.at(-1))).toEqual([2, 3]);
    expect(droppedFrames).toBe(2);
  });
});

describe('VP8 payload descriptor (RFC 7741 §4.2)', () => {
  it('measures every combination of the optional octets', () => {
    expect(vp8DescriptorBytes(Buffer.from('10aa', 'hex'))).toBe(1); // no X
    expect(vp8DescriptorBytes(Buffer.from('9080' + '05' + 'aa', 'hex'))).toBe(3); // I, 7-bit picture id
    expect(vp8DescriptorBytes(Buffer.from('9080' + '8005' + 'aa', 'hex'))).toBe(4); // I, 15-bit picture id
    expect(vp8DescriptorBytes(Buffer.from('90e0' + '8005' + '07' + '40' + 'aa', 'hex'))).toBe(6); // I, L, T
    expect(vp8DescriptorBytes(Buffer.from('9010' + '03' + 'aa', 'hex'))).toBe(3); // K only
    expect(vp8DescriptorBytes(Buffer.from('90', 'hex'))).toBe(-1);
    expect(vp8DescriptorBytes(Buffer.from('9080', 'hex'))).toBe(-1);
  });

  it('keeps the TID octet out of the frame when only T is set (werift 0.8.9 leaks it)', () => {
    expect(vp8Depacketize([Buffer.from('9020' + '40' + '11223344', 'hex')])).toEqual(Buffer.from('11223344', 'hex'));
    expect(vp8Depacketize([Buffer.from('9040' + '07' + '11223344', 'hex')])).toEqual(Buffer.from('11223344', 'hex')); // L only
  });
});

describe('vp9IsKeyframe', () => {
  it('reads frame_type from the uncompressed header, for profiles 0–3', () => {
    expect(vp9IsKeyframe(Uint8Array.of(0b1000_0010))).toBe(true); // profile 0, key, show_frame
    expect(vp9IsKeyframe(Uint8Array.of(0b1000_0110))).toBe(false); // profile 0, inter
    expect(vp9IsKeyframe(Uint8Array.of(0b1000_1000))).toBe(false); // show_existing_frame
    expect(vp9IsKeyframe(Uint8Array.of(0b1011_0001))).toBe(true); // profile 3, reserved 0, key
    expect(vp9IsKeyframe(Uint8Array.of(0b1011_0011))).toBe(false); // profile 3, inter
    expect(vp9IsKeyframe(Uint8Array.of(0b0000_0000))).toBe(false); // no frame marker
  });
});

describe('IvfWriter', () => {
  it('writes the 32-byte header and 12-byte frame headers with 64-bit presentation times', () => {
    const sink = new MemorySink();
    const writer = new IvfWriter(sink, { fourcc: 'VP80', widthPx: 320, heightPx: 240, clockRate: 90_000, frameCount: 2 });
    writer.writeFrame(Buffer.from([1, 2, 3]), 0);
    writer.writeFrame(Buffer.from([4]), TWO_TO_32 + 3000); // past 2^32 ticks (13.3 h at 90 kHz)
    expect(() => writer.writeFrame(Buffer.from([5]), 3000)).toThrow(RangeError);
    const bytes = sink.bytes;
    expect(bytes.toString('ascii', 0, 4)).toBe('DKIF');
    expect([bytes.readUInt16LE(6), bytes.toString('ascii', 8, 12), bytes.readUInt16LE(12), bytes.readUInt16LE(14)]).toEqual([32, 'VP80', 320, 240]);
    expect([bytes.readUInt32LE(16), bytes.readUInt32LE(20), bytes.readUInt32LE(24)]).toEqual([90_000, 1, 2]);
    expect([bytes.readUInt32LE(32), bytes.readBigUInt64LE(36), [...bytes.subarray(44, 47)]]).toEqual([3, 0n, [1, 2, 3]]);
    expect([bytes.readUInt32LE(47), bytes.readBigUInt64LE(51), bytes[59]]).toEqual([1, BigInt(TWO_TO_32 + 3000), 4]);
    expect(writer.frames).toBe(2);
  });
});
