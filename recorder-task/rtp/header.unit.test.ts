import { RtpHeader, RtpPacket } from 'werift-rtp';
import { describe, expect, it } from 'vitest';
import { MALFORMED_REASONS, isRtcp, parseRtpHeader, type MalformedReason } from './header.ts';

/** A hand-built RTP packet: fixed header, CSRCs, optional extension, payload, optional padding. */
const rtp = (o: { csrcs?: number; extensionWords?: number; payload?: number; padding?: number; marker?: boolean; pt?: number } = {}): Buffer => {
  const csrcs = o.csrcs ?? 0;
  const ext = o.extensionWords;
  const headerBytes = 12 + csrcs * 4 + (ext === undefined ? 0 : 4 + ext * 4);
  const buf = Buffer.alloc(headerBytes + (o.payload ?? 10) + (o.padding ?? 0), 0xab);
  buf[0] = 0x80 | (o.padding ? 0x20 : 0) | (ext === undefined ? 0 : 0x10) | csrcs;
  buf[1] = (o.marker ? 0x80 : 0) | (o.pt ?? 111);
  buf.writeUInt16BE(65535, 2);
  buf.writeUInt32BE(0xffff_fff0, 4);
  buf.writeUInt32BE(0xdead_beef, 8);
  if (ext !== undefined) {
    buf.writeUInt16BE(0xbede, 12 + csrcs * 4);
    buf.writeUInt16BE(ext, 14 + csrcs * 4);
  }
  if (o.padding) buf[buf.length - 1] = o.padding;
  return buf;
};

const withLastByte = (buf: Buffer, value: number): Buffer => {
  buf[buf.length - 1] = value;
  return buf;
};

const reasonOf = (buf: Buffer, max?: number): MalformedReason | 'ok' => {
  const result = parseRtpHeader(buf, max);
  return result.ok ? 'ok' : result.reason;
};

describe('parseRtpHeader', () => {
  it('reads the fixed header at the top of the 16- and 32-bit ranges', () => {
    expect(parseRtpHeader(rtp({ marker: true, pt: 96 }))).toEqual({
      ok: true,
      payloadType: 96,
      sequence: 65535,
      timestamp: 0xffff_fff0,
      ssrc: 0xdead_beef,
      marker: true,
      headerBytes: 12,
      payloadBytes: 10,
      paddingBytes: 0,
    });
  });

  it('skips CSRCs, the extension and the padding to find the payload', () => {
    const result = parseRtpHeader(rtp({ csrcs: 3, extensionWords: 2, payload: 7, padding: 4 }));
    expect(result).toMatchObject({ ok: true, headerBytes: 12 + 12 + 4 + 8, payloadBytes: 7, paddingBytes: 4 });
  });

  it('accepts padding that fills the whole payload (a padding-only probe packet)', () => {
    expect(parseRtpHeader(rtp({ payload: 0, padding: 8 }))).toMatchObject({ ok: true, payloadBytes: 0, paddingBytes: 8 });
  });

  it('agrees with werift on a packet werift serialized (CSRC + one-byte extension + padding)', () => {
    const header = new RtpHeader({ payloadType: 100, sequenceNumber: 1, timestamp: 123456, ssrc: 42, marker: true, csrc: [7], padding: true, paddingSize: 4 });
    header.extensions = [{ id: 1, payload: Buffer.from([1, 2, 3]) }];
    const buf = new RtpPacket(header, Buffer.from('payload!')).serialize();
    const parsed = werift(buf);
    expect(parseRtpHeader(buf)).toMatchObject({ ok: true, payloadType: 100, sequence: 1, timestamp: 123456, ssrc: 42, marker: true, ...parsed });
  });

  it.each<[MalformedReason, Buffer, number?]>([
    ['too_short', Buffer.alloc(11, 0x80)],
    ['too_short', Buffer.alloc(0)],
    ['bad_version', rtp().fill(0x40, 0, 1)],
    ['csrc_overflow', rtp({ csrcs: 15, payload: 0 }).subarray(0, 12 + 4 * 14)],
    ['extension_overflow', rtp({ extensionWords: 0, payload: 0 }).subarray(0, 14)],
    ['extension_overflow', rtp({ extensionWords: 3, payload: 0 }).subarray(0, 12 + 4 + 8)],
    ['bad_padding', withLastByte(rtp({ padding: 1 }), 0)],
    ['bad_padding', withLastByte(rtp({ payload: 3, padding: 1 }), 200)],
    ['oversized', rtp({ payload: 1500 }), 1500],
    ['rtcp_on_rtp_port', Buffer.from('80c8000600000001', 'hex')],
    ['rtcp_on_rtp_port', rtp({ marker: true, pt: 72 })],
  ])('returns %s', (reason, buf, max) => {
    expect(reasonOf(buf, max)).toBe(reason);
  });

  it('covers every reason it exports, each with a shared result object (no allocation)', () => {
    expect([...MALFORMED_REASONS].sort()).toEqual(
      ['too_short', 'bad_version', 'csrc_overflow', 'extension_overflow', 'bad_padding', 'oversized', 'rtcp_on_rtp_port'].sort(),
    );
    expect(parseRtpHeader(Buffer.alloc(3))).toBe(parseRtpHeader(Buffer.alloc(5)));
  });

  it('takes the datagram limit from the caller', () => {
    expect(reasonOf(rtp({ payload: 1600 }), 9000)).toBe('ok');
    expect(reasonOf(rtp({ payload: 100 }), 100)).toBe('oversized');
  });
});

describe('isRtcp (RFC 5761 demultiplexing)', () => {
  it('is true for second bytes 192–223 only', () => {
    const second = (b: number) => Buffer.from([0x80, b]);
    expect([191, 192, 200, 223, 224].map((b) => isRtcp(second(b)))).toEqual([false, true, true, true, false]);
    expect(isRtcp(rtp({ marker: true, pt: 96 }))).toBe(false);
    expect(isRtcp(Buffer.alloc(1))).toBe(false);
  });
});

/** werift's view of the same packet, for the fields the lean parser computes. */
const werift = (buf: Buffer) => {
  const packet = RtpPacket.deSerialize(buf);
  return { headerBytes: packet.header.payloadOffset, payloadBytes: packet.payload.length, paddingBytes: packet.header.paddingSize };
};
