/**
 * IVF: the simplest container that carries a presentation time per frame, which is all an
 * intermediate between RTP and a real container needs. ffmpeg reads it for any fourcc in its
 * BMP tag table (VP80, VP90, H264, AV01), then remuxes with `-c copy`.
 *
 * File header (32 bytes, little-endian):
 *   0  "DKIF"            4  version (0)      6  header size (32)   8  fourcc
 *   12 width (px)        14 height (px)      16 time base denominator (the RTP clock rate, Hz)
 *   20 time base numerator (1)               24 frame count        28 unused
 * Each frame: 4-byte size, 8-byte presentation time in time-base units, then the frame.
 *
 * The frame count is given up front (finalization knows every frame before writing), so the
 * writer never seeks back and any sink works.
 */
import type { ByteSink } from './sink.ts';

export type IvfFourcc = 'VP80' | 'VP90' | 'H264' | 'AV01';

export interface IvfHeader {
  readonly fourcc: IvfFourcc;
  /** 0 lets the reader take the size from the bitstream. */
  readonly widthPx: number;
  readonly heightPx: number;
  readonly clockRate: number;
  readonly frameCount: number;
}

const FILE_HEADER_BYTES = 32;
const FRAME_HEADER_BYTES = 12;

export class IvfWriter {
  private framesWritten = 0;
  private lastPts = -1;

  constructor(
    private readonly sink: ByteSink,
    header: IvfHeader,
  ) {
    const buf = Buffer.alloc(FILE_HEADER_BYTES);
    buf.write('DKIF', 0, 'ascii');
    buf.writeUInt16LE(0, 4);
    buf.writeUInt16LE(FILE_HEADER_BYTES, 6);
    buf.write(header.fourcc, 8, 'ascii');
    buf.writeUInt16LE(header.widthPx, 12);
    buf.writeUInt16LE(header.heightPx, 14);
    buf.writeUInt32LE(header.clockRate, 16);
    buf.writeUInt32LE(1, 20);
    buf.writeUInt32LE(header.frameCount, 24);
    sink.write(buf);
  }

  /** `pts` in clock-rate units from the start of the file; must increase frame to frame. */
  writeFrame(frame: Uint8Array, pts: number): void {
    if (pts <= this.lastPts) throw new RangeError(`IVF pts must increase: ${pts} after ${this.lastPts}`);
    const head = Buffer.alloc(FRAME_HEADER_BYTES);
    head.writeUInt32LE(frame.byteLength, 0);
    // u64 as two u32 halves: pts stays below 2^53 for any real recording.
    head.writeUInt32LE(pts >>> 0, 4);
    head.writeUInt32LE(Math.floor(pts / 0x1_0000_0000), 8);
    this.sink.write(head);
    this.sink.write(frame);
    this.lastPts = pts;
    this.framesWritten++;
  }

  get frames(): number {
    return this.framesWritten;
  }
}
