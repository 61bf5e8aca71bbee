/**
 * A minimal Ogg page writer (RFC 3533) for one logical stream. Packets are laced into pages of
 * at most 255 segments; a page is emitted lazily, just before the packet that would overflow it,
 * so the last page always has data to carry the end-of-stream flag. Packets of 64 KiB and more
 * continue across pages, as the format allows.
 *
 * Page header (27 bytes + lacing table, little-endian):
 *   0 "OggS"   4 version (0)   5 flags (1 continued, 2 first page, 4 last page)
 *   6 granule position (i64, codec-defined; −1 when no packet ends on the page)
 *   14 stream serial number   18 page sequence number   22 CRC-32   26 segment count
 *   27 lacing values (255 = the packet goes on), then the segment data.
 */
import type { ByteSink } from './sink.ts';

const FLAG_CONTINUED = 0x01;
const FLAG_FIRST = 0x02;
const FLAG_LAST = 0x04;
const PAGE_HEADER_BYTES = 27;
const MAX_SEGMENTS = 255;
/** libogg's default target: ~0.5 s of 32 kbit/s Opus per page keeps overhead near 1 %. */
const TARGET_PAGE_DATA_BYTES = 4096;

/** Ogg's CRC-32: polynomial 0x04c11db7, not reflected, initial value 0, no final xor. */
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let bit = 0; bit < 8; bit++) r = r & 0x8000_0000 ? (r << 1) ^ 0x04c1_1db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
})();

export const oggCrc32 = (bytes: Uint8Array): number => {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ byte) & 0xff]!) >>> 0;
  return crc;
};

export class OggPageWriter {
  private lacing: number[] = [];
  private data: Uint8Array[] = [];
  private dataBytes = 0;
  /** Granule of the last packet that ends on the pending page; −1 if none does. */
  private pageGranule = -1;
  /** Granule of the last packet written at all: an empty closing page repeats it. */
  private lastGranule = 0;
  private continued = false;
  private pageSequence = 0;
  private closed = false;

  constructor(
    private readonly sink: ByteSink,
    private readonly serialNumber: number,
  ) {}

  /** `granulePosition` is the codec's position at the end of this packet. */
  writePacket(packet: Uint8Array, granulePosition: number): void {
    if (this.closed) throw new Error('write after close');
    if (this.lacing.length > 0 && this.dataBytes + packet.length > TARGET_PAGE_DATA_BYTES) this.flush();
    // A packet of n bytes takes floor(n / 255) segments of 255 plus one shorter (possibly 0) segment.
    const segments = Math.floor(packet.length / 255) + 1;
    for (let i = 0; i < segments; i++) {
      if (this.lacing.length === MAX_SEGMENTS) this.emit(0);
      const start = i * 255;
      const size = Math.min(255, packet.length - start);
      this.lacing.push(size);
      this.data.push(packet.subarray(start, start + size));
      this.dataBytes += size;
    }
    this.pageGranule = granulePosition;
    this.lastGranule = granulePosition;
  }

  /** Ends the pending page here (headers must sit alone on their pages; discontinuities too). */
  flush(): void {
    if (this.lacing.length > 0) this.emit(0);
  }

  /** Emits the last page with the end-of-stream flag; a second call does nothing. */
  close(): void {
    if (this.closed) return;
    this.emit(FLAG_LAST);
    this.closed = true;
  }

  private emit(extraFlags: number): void {
    const header = Buffer.alloc(PAGE_HEADER_BYTES + this.lacing.length);
    header.write('OggS', 0, 'ascii');
    header[5] = (this.continued ? FLAG_CONTINUED : 0) | (this.pageSequence === 0 ? FLAG_FIRST : 0) | extraFlags;
    const granule = this.lacing.length === 0 ? this.lastGranule : this.pageGranule;
    // i64 as two halves: −1 is all ones; real positions stay below 2^53.
    header.writeUInt32LE(granule < 0 ? 0xffff_ffff : granule >>> 0, 6);
    header.writeUInt32LE(granule < 0 ? 0xffff_ffff : Math.floor(granule / 0x1_0000_0000), 10);
    header.writeUInt32LE(this.serialNumber >>> 0, 14);
    header.writeUInt32LE(this.pageSequence, 18);
    header[26] = this.lacing.length;
    header.set(this.lacing, PAGE_HEADER_BYTES);
    const page = Buffer.concat([header, ...this.data]);
    page.writeUInt32LE(oggCrc32(page), 22);
    this.sink.write(page);

    // A page that ends on a 255 segment leaves its packet to be continued on the next one.
    this.continued = this.lacing.at(-1) === 255;
    this.pageSequence++;
    this.lacing = [];
    this.data = [];
    this.dataBytes = 0;
    this.pageGranule = -1;
  }
}
