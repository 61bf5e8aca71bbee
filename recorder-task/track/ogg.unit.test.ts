import { describe, expect, it } from 'vitest';
import { OggPageWriter, oggCrc32 } from './ogg.ts';
import { OPUS_SILENCE_FRAME_20MS, OggOpusWriter, opusPacketSamples } from './ogg-opus.ts';
import { MemorySink } from './sink.ts';

/** The first page of an Ogg Opus file written by ffmpeg 5.1 (libavformat's own CRC code). */
const FFMPEG_OPUS_HEAD_PAGE = Buffer.from('4f67675300020000000000000000341d249a000000008703687c01134f707573486561640101380180bb0000000000', 'hex');

interface Page {
  flags: number;
  granule: bigint;
  serial: number;
  sequence: number;
  crc: number;
  lacing: number[];
  body: Buffer;
}

/** Splits an Ogg stream into pages, checking each CRC against the page with its CRC zeroed. */
const pagesOf = (bytes: Buffer): Page[] => {
  const pages: Page[] = [];
  for (let offset = 0; offset < bytes.length; ) {
    expect(bytes.toString('ascii', offset, offset + 4)).toBe('OggS');
    const count = bytes[offset + 26]!;
    const lacing = [...bytes.subarray(offset + 27, offset + 27 + count)];
    const end = offset + 27 + count + lacing.reduce((a, b) => a + b, 0);
    const page = Buffer.from(bytes.subarray(offset, end));
    const crc = page.readUInt32LE(22);
    page.writeUInt32LE(0, 22);
    expect(oggCrc32(page)).toBe(crc);
    pages.push({
      flags: page[5]!,
      granule: page.readBigInt64LE(6),
      serial: page.readUInt32LE(14),
      sequence: page.readUInt32LE(18),
      crc,
      lacing,
      body: page.subarray(27 + count),
    });
    offset = end;
  }
  return pages;
};

/** Re-joins packets from pages by their lacing (a segment < 255 ends a packet). */
const packetsOf = (pages: Page[]): Buffer[] => {
  const packets: Buffer[] = [];
  let current: Buffer[] = [];
  for (const page of pages) {
    let at = 0;
    for (const size of page.lacing) {
      current.push(page.body.subarray(at, at + size));
      at += size;
      if (size < 255) {
        packets.push(Buffer.concat(current));
        current = [];
      }
    }
  }
  return packets;
};

describe('oggCrc32', () => {
  it('is CRC-32 with polynomial 0x04c11db7, initial 0, no reflection, no final xor', () => {
    // CRC-32/CKSUM ("123456789" → 0x765e7680) is this CRC with a final xor of all ones.
    expect(oggCrc32(Buffer.from('123456789'))).toBe((0x765e7680 ^ 0xffffffff) >>> 0);
  });

  it('reproduces the CRC of a page written by ffmpeg', () => {
    const page = Buffer.from(FFMPEG_OPUS_HEAD_PAGE);
    const crc = page.readUInt32LE(22);
    page.writeUInt32LE(0, 22);
    expect(oggCrc32(page)).toBe(crc);
  });
});

describe('OggPageWriter', () => {
  it('flags the first and last pages, numbers pages and carries the granule of the last packet', () => {
    const sink = new MemorySink();
    const writer = new OggPageWriter(sink, 0xcafe);
    writer.writePacket(Buffer.from('head'), 0);
    writer.flush();
    for (let i = 1; i <= 3; i++) writer.writePacket(Buffer.alloc(100, i), i * 960);
    writer.close();
    writer.close(); // idempotent
    const pages = pagesOf(sink.bytes);
    expect(pages.map((p) => [p.flags, p.granule, p.serial, p.sequence])).toEqual([
      [0x02, 0n, 0xcafe, 0],
      [0x04, 2880n, 0xcafe, 1],
    ]);
    expect(packetsOf(pages).map((p) => p.length)).toEqual([4, 100, 100, 100]);
  });

  it('laces a packet of exactly 255 bytes with a closing 0, and continues a 70 000-byte packet across pages', () => {
    const sink = new MemorySink();
    const writer = new OggPageWriter(sink, 1);
    const big = Buffer.alloc(70_000, 7);
    writer.writePacket(Buffer.alloc(255, 1), 10);
    writer.writePacket(big, 20);
    writer.close();
    const pages = pagesOf(sink.bytes);
    expect(pages[0]!.lacing.slice(0, 2)).toEqual([255, 0]);
    // The big packet does not fit the first page's 4 KiB target, so it starts a page of its own;
    // a page on which no packet ends has granule −1, and the next page is flagged "continued".
    expect(pages.map((p) => [p.flags, p.granule, p.lacing.length])).toEqual([
      [0x02, 10n, 2],
      [0x00, -1n, 255],
      [0x01 | 0x04, 20n, 275 - 255],
    ]);
    expect(packetsOf(pages)).toEqual([Buffer.alloc(255, 1), big]);
    const three = new MemorySink();
    const w3 = new OggPageWriter(three, 1);
    w3.writePacket(Buffer.alloc(140_000), 30);
    w3.close();
    expect(pagesOf(three.bytes).map((p) => [p.flags, p.granule])).toEqual([
      [0x02, -1n],
      [0x01, -1n],
      [0x01 | 0x04, 30n],
    ]);
  });
});

describe('Ogg Opus', () => {
  it('reads packet durations from the TOC byte (RFC 6716 §3.1)', () => {
    expect(opusPacketSamples(Uint8Array.of(0xf8, 0xff, 0xfe))).toBe(960); // CELT 20 ms, 1 frame
    expect(opusPacketSamples(Uint8Array.of(0x78))).toBe(960); // hybrid FB 20 ms
    expect(opusPacketSamples(Uint8Array.of(0x0b << 3))).toBe(2880); // SILK 60 ms
    expect(opusPacketSamples(Uint8Array.of((16 << 3) | 1))).toBe(240); // CELT 2.5 ms × 2
    expect(opusPacketSamples(Uint8Array.of((31 << 3) | 3, 6))).toBe(5760); // 6 × 20 ms = 120 ms
    expect(opusPacketSamples(Uint8Array.of((31 << 3) | 3, 7))).toBe(0); // over 120 ms: invalid
    expect(opusPacketSamples(Uint8Array.of())).toBe(0);
  });

  it('writes OpusHead and OpusTags on their own pages, then fills holes with silence frames', () => {
    const sink = new MemorySink();
    const writer = new OggOpusWriter(sink, { channels: 2, serialNumber: 5, preSkipSamples: 312 });
    const frame = (n: number) => Uint8Array.of(0xfc, n); // CELT FB 20 ms, stereo
    expect(writer.writePacket(frame(0), 0)).toBe(true);
    expect(writer.writePacket(frame(1), 648)).toBe(true); // the first packet carried 312 samples of priming
    expect(writer.writePacket(frame(4), 648 + 3 * 960)).toBe(true); // two packets lost
    expect(writer.writePacket(frame(5), 648 + 4 * 960 + 200)).toBe(true); // 200 samples late: 120 silence + jump
    expect(writer.writePacket(Uint8Array.of(), 99_999)).toBe(false);
    writer.close();

    const pages = pagesOf(sink.bytes);
    const packets = packetsOf(pages);
    const head = packets[0]!;
    expect(head.toString('ascii', 0, 8)).toBe('OpusHead');
    expect([head[8], head[9], head.readUInt16LE(10), head.readUInt32LE(12), head[18]]).toEqual([1, 2, 312, 48_000, 0]);
    expect(packets[1]!.toString('ascii', 0, 8)).toBe('OpusTags');
    expect(pages[0]!.lacing).toHaveLength(1);
    expect(pages[1]!.granule).toBe(0n);
    const silence = Buffer.from(OPUS_SILENCE_FRAME_20MS);
    expect(packets.slice(2)).toEqual([
      Buffer.from(frame(0)),
      Buffer.from(frame(1)),
      silence,
      silence,
      Buffer.from(frame(4)),
      Buffer.from([0xe0, 0xff, 0xfe]), // 2.5 ms of silence
      Buffer.from(frame(5)),
    ]);
    expect(writer.silenceFrames).toBe(3);
    // Granule = samples incl. pre-skip; the 80 samples no silence frame covers are a jump at a page edge.
    const last = pages.at(-1)!;
    expect(last.granule).toBe(BigInt(312 + 648 + 4 * 960 + 200 + 960));
    expect(writer.durationSamples).toBe(648 + 5 * 960 + 200);
    expect(last.flags & 0x04).toBe(0x04);
  });
});
