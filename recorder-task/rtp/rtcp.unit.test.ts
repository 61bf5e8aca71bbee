import { describe, expect, it } from 'vitest';
import { RTCP_MALFORMED_REASONS, ntpToUnixMs, parseRtcp, type RtcpMalformedReason } from './rtcp.ts';

const NTP_UNIX_OFFSET_SECONDS = 2_208_988_800;

/** A hand-built SR: 2026-01-01T00:00:00.5Z, RTP timestamp 0xfffffc40 (just before the wrap). */
const handBuiltSr = (reportBlocks = 0): Buffer => {
  const buf = Buffer.alloc(28 + reportBlocks * 24);
  buf[0] = 0x80 | reportBlocks;
  buf[1] = 200;
  buf.writeUInt16BE(buf.length / 4 - 1, 2);
  buf.writeUInt32BE(0x1234_5678, 4);
  buf.writeUInt32BE(Date.UTC(2026, 0, 1) / 1000 + NTP_UNIX_OFFSET_SECONDS, 8);
  buf.writeUInt32BE(0x8000_0000, 12);
  buf.writeUInt32BE(0xffff_fc40, 16);
  buf.writeUInt32BE(250, 20);
  buf.writeUInt32BE(40_000, 24);
  return buf;
};

/** ffmpeg 5.1 `-f rtp -cname capstan-test`, captured on this machine: SR + SDES (CNAME). */
const FFMPEG_SR_SDES = Buffer.from(
  '80c800068d9ef004eeaf210b65a1cac0378d65a3000000000000000081ca00058d9ef004010c6361707374616e2d746573740000',
  'hex',
);

const bye = (ssrcs: number[], reason?: string): Buffer => {
  const reasonBytes = reason === undefined ? Buffer.alloc(0) : Buffer.concat([Buffer.from([reason.length]), Buffer.from(reason)]);
  const body = Buffer.concat([...ssrcs.map((s) => Buffer.from(s.toString(16).padStart(8, '0'), 'hex')), reasonBytes]);
  const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
  const header = Buffer.from([0x80 | ssrcs.length, 203, 0, padded.length / 4]);
  return Buffer.concat([header, padded]);
};

describe('ntpToUnixMs', () => {
  it('reads a half-second fraction as 500 ms (werift ntpTime2Sec says 214.7 ms)', () => {
    expect(ntpToUnixMs(NTP_UNIX_OFFSET_SECONDS, 0x8000_0000)).toBe(500);
    expect(ntpToUnixMs(NTP_UNIX_OFFSET_SECONDS + 10, 0x4000_0000)).toBe(10_250);
  });

  it('maps NTP era 1 (after 2036-02-07, seconds with the top bit clear) past the rollover', () => {
    expect(ntpToUnixMs(0xffff_ffff, 0)).toBe((0xffff_ffff - NTP_UNIX_OFFSET_SECONDS) * 1000);
    expect(ntpToUnixMs(0, 0)).toBe((0x1_0000_0000 - NTP_UNIX_OFFSET_SECONDS) * 1000);
    expect(new Date(ntpToUnixMs(0, 0)).toISOString()).toBe('2036-02-07T06:28:16.000Z');
  });
});

describe('parseRtcp', () => {
  it('reads a hand-built sender report', () => {
    expect(parseRtcp(handBuiltSr())).toEqual({
      ok: true,
      packetTypes: [200],
      byeSsrcs: [],
      senderReports: [
        {
          ssrc: 0x1234_5678,
          ntpSeconds: Date.UTC(2026, 0, 1) / 1000 + NTP_UNIX_OFFSET_SECONDS,
          ntpFraction: 0x8000_0000,
          ntpTimeMs: Date.UTC(2026, 0, 1) + 500,
          rtpTimestamp: 0xffff_fc40,
          packetCount: 250,
          octetCount: 40_000,
        },
      ],
    });
  });

  it('reads a real compound SR + SDES from ffmpeg', () => {
    const result = parseRtcp(FFMPEG_SR_SDES);
    expect(result).toMatchObject({ ok: true, packetTypes: [200, 202], byeSsrcs: [] });
    if (!result.ok) throw new Error('unreachable');
    const [sr] = result.senderReports;
    expect(sr).toMatchObject({ ssrc: 0x8d9e_f004, ntpSeconds: 0xeeaf_210b, ntpFraction: 0x65a1_cac0, rtpTimestamp: 0x378d_65a3, packetCount: 0 });
    expect(sr!.ntpTimeMs).toBeCloseTo((0xeeaf_210b - NTP_UNIX_OFFSET_SECONDS) * 1000 + (0x65a1_cac0 / 2 ** 32) * 1000, 6);
    expect(new Date(sr!.ntpTimeMs).getUTCFullYear()).toBeGreaterThanOrEqual(2026);
  });

  it('skips report blocks and reads BYE sources (with a reason) in a compound packet', () => {
    const result = parseRtcp(Buffer.concat([handBuiltSr(2), bye([0x1234_5678, 0xdead_beef], 'done')]));
    expect(result).toMatchObject({ ok: true, packetTypes: [200, 203], byeSsrcs: [0x1234_5678, 0xdead_beef] });
    expect(result.ok && result.senderReports).toHaveLength(1);
  });

  it('steps over padding on the last packet', () => {
    const padded = Buffer.concat([bye([7]), Buffer.from([0, 0, 0, 4])]);
    padded[0] = padded[0]! | 0x20;
    padded.writeUInt16BE(padded.length / 4 - 1, 2);
    expect(parseRtcp(padded)).toMatchObject({ ok: true, byeSsrcs: [7] });
  });

  const truncatedSr = handBuiltSr(1);
  truncatedSr.writeUInt16BE(6, 2); // says 28 bytes, yet RC = 1 needs 52
  const zeroPadding = handBuiltSr();
  zeroPadding[0] = 0xa0;
  const hugePadding = Buffer.from(zeroPadding);
  hugePadding[hugePadding.length - 1] = 200;

  it.each<[RtcpMalformedReason, Buffer]>([
    ['too_short', Buffer.from([0x80, 200])],
    ['too_short', Buffer.concat([handBuiltSr(), Buffer.from([0x80])])],
    ['bad_version', Buffer.concat([Buffer.from([0x40]), handBuiltSr().subarray(1)])],
    ['bad_version', Buffer.concat([handBuiltSr(), Buffer.from([0x00, 0, 0, 0])])],
    ['length_overflow', handBuiltSr().subarray(0, 24)],
    ['bad_padding', zeroPadding],
    ['bad_padding', hugePadding],
    ['truncated_report', truncatedSr.subarray(0, 28)],
    ['truncated_report', Buffer.from([0x83, 203, 0, 1, 0, 0, 0, 1])],
  ])('returns %s instead of throwing', (reason, buf) => {
    expect(parseRtcp(buf)).toEqual({ ok: false, reason });
  });

  it('exports exactly the reasons it returns', () => {
    expect([...RTCP_MALFORMED_REASONS].sort()).toEqual(['bad_padding', 'bad_version', 'length_overflow', 'too_short', 'truncated_report']);
  });
});
