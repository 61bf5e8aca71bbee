/**
 * First stage of finalization: captured datagrams → the track's packets in sending order.
 * Late packets are never thrown away for being late: order comes from extended sequence
 * numbers, not arrival. Arrival order (by receive time) still matters twice: the extender
 * needs it to place values across the 65535 → 0 wrap, and "reordered" means "arrived after a
 * packet with a higher sequence number". The first copy of a duplicate wins.
 */
import { parseRtpHeader } from '../rtp/header.ts';
import { SequenceExtender, TimestampExtender } from '../rtp/sequence.ts';

export interface CapturedPacket {
  /** Receive time, ms since the Unix epoch. */
  readonly receivedAtMs: number;
  readonly data: Buffer;
}

export interface OrderedPacket {
  readonly extendedSequence: number;
  /** Unwrapped in sending order, so it keeps increasing across the 2^32 wrap. */
  readonly extendedTimestamp: number;
  readonly sequence: number;
  readonly timestamp: number;
  readonly marker: boolean;
  readonly payloadType: number;
  /** A view into the captured datagram, padding removed. */
  readonly payload: Buffer;
  readonly receivedAtMs: number;
}

export interface OrderStats {
  /** Distinct packets kept (RFC 3550's "received"; expected = packets + lost). */
  packets: number;
  duplicates: number;
  /** Missing sequence numbers between the first and the last packet. */
  lost: number;
  reordered: number;
  /** Datagrams that are not valid RTP (see MALFORMED_REASONS), skipped. */
  malformed: number;
}

/** `missing` packets are absent between packets[afterIndex] and packets[afterIndex + 1]. */
export interface MissingRun {
  readonly afterIndex: number;
  readonly missing: number;
}

export interface OrderedTrack {
  readonly packets: OrderedPacket[];
  readonly stats: OrderStats;
  readonly missingRuns: MissingRun[];
}

export const orderPackets = (captured: readonly CapturedPacket[], maxDatagramBytes = 65_507): OrderedTrack => {
  const stats: OrderStats = { packets: 0, duplicates: 0, lost: 0, reordered: 0, malformed: 0 };
  // Array.prototype.sort is stable: packets stamped with the same time keep their log order.
  const arrival = [...captured].sort((a, b) => a.receivedAtMs - b.receivedAtMs);
  const sequences = new SequenceExtender();
  const bySequence = new Map<number, Omit<OrderedPacket, 'extendedTimestamp'>>();
  let highestExtended = -1;
  for (const { receivedAtMs, data } of arrival) {
    const header = parseRtpHeader(data, maxDatagramBytes);
    if (!header.ok) {
      stats.malformed++;
      continue;
    }
    const extendedSequence = sequences.extend(header.sequence);
    if (bySequence.has(extendedSequence)) {
      stats.duplicates++;
      continue;
    }
    if (extendedSequence < highestExtended) stats.reordered++;
    else highestExtended = extendedSequence;
    bySequence.set(extendedSequence, {
      extendedSequence,
      sequence: header.sequence,
      timestamp: header.timestamp,
      marker: header.marker,
      payloadType: header.payloadType,
      payload: data.subarray(header.headerBytes, header.headerBytes + header.payloadBytes),
      receivedAtMs,
    });
  }

  const timestamps = new TimestampExtender();
  const packets: OrderedPacket[] = [...bySequence.values()]
    .sort((a, b) => a.extendedSequence - b.extendedSequence)
    .map((p) => ({ ...p, extendedTimestamp: timestamps.extend(p.timestamp) }));
  const missingRuns: MissingRun[] = [];
  for (let i = 0; i + 1 < packets.length; i++) {
    const missing = packets[i + 1]!.extendedSequence - packets[i]!.extendedSequence - 1;
    if (missing > 0) {
      missingRuns.push({ afterIndex: i, missing });
      stats.lost += missing;
    }
  }
  stats.packets = packets.length;
  return { packets, stats, missingRuns };
};
