/**
 * Reads what finalization needs from a (compound) RTCP datagram (RFC 3550 §6): sender reports,
 * which map a track's RTP clock to wall-clock time so tracks line up, and BYE, which ends a
 * source. Other packet types (RR, SDES, APP, feedback) are stepped over by their length.
 * Malformed input returns a reason; nothing here throws on bytes from the network.
 *
 * Sender report (PT 200), 28 bytes + 24 per report block:
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |V=2|P|    RC   |   PT=SR=200   |  length (32-bit words − 1)    |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                         SSRC of sender                        |
 *    +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *    |      NTP timestamp, seconds since 1900-01-01 (most significant)|
 *    |      NTP timestamp, fraction of a second in 2^-32 s units     |
 *    |                         RTP timestamp                         |
 *    |                     sender's packet count                     |
 *    |                      sender's octet count                     |
 *    +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *    |                 report blocks (RC × 24 bytes)               ...
 */

const RTCP_VERSION = 2;
const COMMON_HEADER_BYTES = 4;
const SENDER_INFO_BYTES = 24;
const REPORT_BLOCK_BYTES = 24;
const PACKET_TYPE_SR = 200;
const PACKET_TYPE_BYE = 203;
/** Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01). */
const NTP_TO_UNIX_SECONDS = 2_208_988_800;
const TWO_TO_32 = 0x1_0000_0000;

export const RTCP_MALFORMED_REASONS = ['too_short', 'bad_version', 'length_overflow', 'bad_padding', 'truncated_report'] as const;
export type RtcpMalformedReason = (typeof RTCP_MALFORMED_REASONS)[number];

export interface SenderReport {
  readonly ssrc: number;
  readonly ntpSeconds: number;
  /** In 2^-32 s units: 0x8000_0000 is half a second. */
  readonly ntpFraction: number;
  /** Wall-clock time of `rtpTimestamp`, ms since the Unix epoch (sub-ms precision kept). */
  readonly ntpTimeMs: number;
  readonly rtpTimestamp: number;
  readonly packetCount: number;
  readonly octetCount: number;
}

export type RtcpParseResult =
  | { readonly ok: true; readonly senderReports: SenderReport[]; readonly byeSsrcs: number[]; readonly packetTypes: number[] }
  | { readonly ok: false; readonly reason: RtcpMalformedReason };

/**
 * NTP 64-bit time → Unix ms. werift's `ntpTime2Sec` misreads the fraction (half a second comes
 * out as 0.2147 s), hence this. Seconds with the top bit clear belong to NTP era 1, which starts
 * 2036-02-07 (RFC 4330 §3), so the mapping keeps working after the 32-bit rollover.
 */
export const ntpToUnixMs = (ntpSeconds: number, ntpFraction: number): number => {
  const eraSeconds = ntpSeconds < 0x8000_0000 ? ntpSeconds + TWO_TO_32 : ntpSeconds;
  return (eraSeconds - NTP_TO_UNIX_SECONDS) * 1000 + (ntpFraction / TWO_TO_32) * 1000;
};

const malformed = (reason: RtcpMalformedReason): RtcpParseResult => ({ ok: false, reason });

export const parseRtcp = (buf: Buffer): RtcpParseResult => {
  const senderReports: SenderReport[] = [];
  const byeSsrcs: number[] = [];
  const packetTypes: number[] = [];
  if (buf.length < COMMON_HEADER_BYTES) return malformed('too_short');
  let offset = 0;
  while (offset < buf.length) {
    if (offset + COMMON_HEADER_BYTES > buf.length) return malformed('too_short');
    const first = buf[offset]!;
    if (first >> 6 !== RTCP_VERSION) return malformed('bad_version');
    const count = first & 0x1f;
    const packetType = buf[offset + 1]!;
    const packetBytes = (buf.readUInt16BE(offset + 2) + 1) * 4;
    if (offset + packetBytes > buf.length) return malformed('length_overflow');
    let paddingBytes = 0;
    if ((first & 0x20) !== 0) {
      paddingBytes = buf[offset + packetBytes - 1]!;
      if (paddingBytes === 0 || paddingBytes > packetBytes - COMMON_HEADER_BYTES) return malformed('bad_padding');
    }
    const bodyStart = offset + COMMON_HEADER_BYTES;
    const bodyBytes = packetBytes - COMMON_HEADER_BYTES - paddingBytes;
    packetTypes.push(packetType);

    if (packetType === PACKET_TYPE_SR) {
      // SSRC (4) + sender info (20 after the SSRC) = 24, then the report blocks.
      if (bodyBytes < SENDER_INFO_BYTES + count * REPORT_BLOCK_BYTES) return malformed('truncated_report');
      const ntpSeconds = buf.readUInt32BE(bodyStart + 4);
      const ntpFraction = buf.readUInt32BE(bodyStart + 8);
      senderReports.push({
        ssrc: buf.readUInt32BE(bodyStart),
        ntpSeconds,
        ntpFraction,
        ntpTimeMs: ntpToUnixMs(ntpSeconds, ntpFraction),
        rtpTimestamp: buf.readUInt32BE(bodyStart + 12),
        packetCount: buf.readUInt32BE(bodyStart + 16),
        octetCount: buf.readUInt32BE(bodyStart + 20),
      });
    } else if (packetType === PACKET_TYPE_BYE) {
      // BYE: `count` SSRC/CSRCs, then an optional reason we do not need.
      if (bodyBytes < count * 4) return malformed('truncated_report');
      for (let i = 0; i < count; i++) byeSsrcs.push(buf.readUInt32BE(bodyStart + i * 4));
    }
    offset += packetBytes;
  }
  return { ok: true, senderReports, byeSsrcs, packetTypes };
};
