/**
 * Malformed and hostile UDP traffic for an RTP ingest port, seeded (mulberry32), and a paced
 * blaster that keeps the receiver's kernel buffer from overflowing by watching its queue in
 * /proc/net/udp (Linux): the point is to stress the receiver's parser, not the kernel.
 */
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mulberry32 } from './impairment-proxy.ts';

export type FuzzKind =
  | 'random'
  | 'short'
  | 'bad_version'
  | 'csrc_overflow'
  | 'extension_overflow'
  | 'bad_padding'
  | 'oversized'
  | 'rtcp_like'
  | 'unknown_ssrc'
  | 'ssrc_change';

export interface FuzzOptions {
  readonly seed: number;
  /** SSRCs the fuzz must never carry (the clean streams under test), as RTP or as RTCP sender. */
  readonly avoidSsrcs: readonly number[];
  /** Payload type of the stream whose SSRC changes midway (default 111). */
  readonly changePayloadType?: number;
  /** Packets of that stream sent before its SSRC changes (default 50 000). */
  readonly changeAfter?: number;
}

export interface Fuzz {
  next: () => Buffer;
  counts: Record<FuzzKind, number>;
  /** The stream with the SSRC change: its SSRC before and after, and its next packet (for a clean start before the blast). */
  readonly change: { readonly before: number; readonly after: number; readonly payloadType: number; packet: () => Buffer };
}

/**
 * An endless generator of hostile datagrams; `counts` tallies what it produced by kind.
 * Mix: 20 % random bytes (0–1600), 10 % shorter than an RTP header, 40 % mutated copies of a
 * valid RTP header (version, CSRC count, extension, padding, size), 5 % RTCP-looking packets,
 * 15 % valid RTP with fresh unknown SSRCs, 10 % one valid stream whose SSRC changes midway.
 */
export function fuzzDatagrams(options: FuzzOptions): Fuzz {
  const random = mulberry32(options.seed);
  const avoid = new Set(options.avoidSsrcs.map((s) => s >>> 0));
  const counts = Object.fromEntries(
    (['random', 'short', 'bad_version', 'csrc_overflow', 'extension_overflow', 'bad_padding', 'oversized', 'rtcp_like', 'unknown_ssrc', 'ssrc_change'] as const).map((k) => [k, 0]),
  ) as Record<FuzzKind, number>;
  const int = (n: number) => Math.floor(random() * n);
  const u32 = () => (int(0x1_0000) * 0x1_0000 + int(0x1_0000)) >>> 0;
  const ssrc = () => {
    for (;;) {
      const s = u32();
      if (!avoid.has(s)) return s;
    }
  };
  // Random bytes come from a seeded pool, copied at random offsets: per-byte PRNG calls would
  // cost more than the sending.
  const pool = Buffer.allocUnsafe(1 << 22);
  for (let i = 0; i < pool.length; i += 4) pool.writeUInt32BE(u32(), i);
  const bytes = (n: number): Buffer => {
    const from = int(pool.length - n);
    return Buffer.from(pool.subarray(from, from + n));
  };
  /** A valid RTP packet (no CSRC, extension or padding): PT 100–127, a random payload. */
  const rtp = (s: number, sequence: number, timestamp: number, payloadBytes: number, pt = 100 + int(28)) => {
    const buf = bytes(12 + payloadBytes);
    buf[0] = 0x80;
    buf[1] = pt;
    buf.writeUInt16BE(sequence & 0xffff, 2);
    buf.writeUInt32BE(timestamp >>> 0, 4);
    buf.writeUInt32BE(s, 8);
    return buf;
  };
  // The stream whose SSRC changes midway (as a sender restarting would).
  const changePt = options.changePayloadType ?? 111;
  const changeAfter = options.changeAfter ?? 50_000;
  const change = { before: ssrc(), after: ssrc(), sequence: int(0x1_0000), timestamp: u32(), sent: 0 };
  const changePacket = () => {
    const buf = rtp(change.sent < changeAfter ? change.before : change.after, change.sequence++, (change.timestamp += 960), 20 + int(100), changePt);
    change.sent++;
    return buf;
  };
  /** Never let a datagram name a protected SSRC where RTP (bytes 8–11) or RTCP (4–7) would. */
  const safe = (buf: Buffer): Buffer => {
    if (buf.length >= 12 && avoid.has(buf.readUInt32BE(8))) buf.writeUInt32BE(ssrc(), 8);
    if (buf.length >= 8 && avoid.has(buf.readUInt32BE(4))) buf.writeUInt32BE(ssrc(), 4);
    return buf;
  };

  const next = (): Buffer => {
    const roll = random();
    let kind: FuzzKind;
    let buf: Buffer;
    if (roll < 0.2) {
      kind = 'random';
      buf = bytes(int(1601));
    } else if (roll < 0.3) {
      kind = 'short';
      buf = bytes(int(12));
      // Mostly RTP-looking (version 2) so they reach the size check, some not.
      if (buf.length > 1 && random() < 0.8) {
        buf[0] = 0x80 | (buf[0]! & 0x3f);
        if (buf[1]! >= 192 && buf[1]! <= 223) buf[1] = 96;
      }
    } else if (roll < 0.7) {
      buf = rtp(ssrc(), int(0x1_0000), u32(), 20 + int(200));
      const mutation = int(5);
      if (mutation === 0) {
        kind = 'bad_version';
        buf[0] = (buf[0]! & 0x3f) | ([0, 1, 3][int(3)]! << 6);
      } else if (mutation === 1) {
        kind = 'csrc_overflow';
        buf = buf.subarray(0, 12 + int(8)); // room for at most two CSRCs
        buf[0] = (buf[0]! & 0xf0) | (3 + int(13)); // 3–15 CSRCs claimed
      } else if (mutation === 2) {
        kind = 'extension_overflow';
        buf[0]! |= 0x10;
        buf.writeUInt16BE(0xbede, 12);
        buf.writeUInt16BE(Math.ceil(buf.length / 4) + int(0xff00), 14); // longer than the packet
      } else if (mutation === 3) {
        kind = 'bad_padding';
        buf[0]! |= 0x20;
        // A count of 0 (impossible: it counts itself), or more than the payload holds.
        const payload = buf.length - 12;
        buf[buf.length - 1] = random() < 0.3 ? 0 : payload + 1 + int(255 - payload);
      } else {
        kind = 'oversized';
        buf = Buffer.concat([buf, bytes(1500 - buf.length + 1 + int(100))]);
      }
    } else if (roll < 0.75) {
      kind = 'rtcp_like';
      buf = bytes(4 + int(60));
      buf[0] = 0x80 | int(32);
      buf[1] = 200 + int(5); // SR, RR, SDES, BYE, APP
      if (buf.length >= 4) buf.writeUInt16BE(int(0x1_0000), 2); // a length field that rarely matches
    } else if (roll < 0.9) {
      kind = 'unknown_ssrc';
      buf = rtp(ssrc(), int(0x1_0000), u32(), 20 + int(200));
    } else {
      kind = 'ssrc_change';
      buf = changePacket();
    }
    counts[kind]++;
    return safe(buf);
  };
  return { next, counts, change: { before: change.before, after: change.after, payloadType: changePt, packet: changePacket } };
}

/** The kernel's view of a UDP socket bound to `port` on IPv4: bytes queued for the reader, and datagrams it dropped. */
export function udpSocketState(port: number): { rxQueueBytes: number; drops: number } | undefined {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 13 || fields[1]!.split(':')[1] !== hexPort) continue;
    return { rxQueueBytes: parseInt(fields[4]!.split(':')[1]!, 16), drops: Number(fields[12]) };
  }
  return undefined;
}

export interface BlastResult {
  readonly datagrams: number;
  readonly bytes: number;
  readonly ms: number;
  /** Datagrams the receiving socket's kernel buffer dropped during the blast. */
  readonly kernelDrops: number;
  /** How often the blaster waited for the receiver to catch up. */
  readonly pauses: number;
}

/**
 * Send `total` datagrams from `next()` to host:port as fast as the loopback and the receiver
 * allow: batches of sends, each batch awaited (the send callbacks are the "drain"), and a pause
 * whenever the receiver's queue passes `highWaterBytes` until it is under `lowWaterBytes`.
 */
export async function blast(options: {
  host: string;
  port: number;
  total: number;
  next: () => Buffer;
  batch?: number;
  highWaterBytes?: number;
  lowWaterBytes?: number;
}): Promise<BlastResult> {
  const batch = options.batch ?? 512;
  const high = options.highWaterBytes ?? 2 * 1024 * 1024;
  const low = options.lowWaterBytes ?? 512 * 1024;
  const socket = createSocket({ type: 'udp4', sendBufferSize: 4 * 1024 * 1024 });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  socket.connect(options.port, options.host);
  await once(socket, 'connect');
  const before = udpSocketState(options.port);
  const started = Date.now();
  let sent = 0;
  let bytes = 0;
  let pauses = 0;
  let lastError: Error | undefined;
  try {
    while (sent < options.total) {
      const n = Math.min(batch, options.total - sent);
      let last!: Promise<void>;
      for (let i = 0; i < n; i++) {
        const data = options.next();
        bytes += data.length;
        last = new Promise<void>((resolve) =>
          socket.send(data, (error) => {
            if (error) lastError = error;
            resolve();
          }),
        );
      }
      await last;
      if (lastError) throw lastError;
      sent += n;
      const state = udpSocketState(options.port);
      if (state && state.rxQueueBytes > high) {
        pauses++;
        while ((udpSocketState(options.port)?.rxQueueBytes ?? 0) > low) await new Promise((r) => setTimeout(r, 2));
      }
    }
  } finally {
    socket.close();
  }
  const after = udpSocketState(options.port);
  return { datagrams: sent, bytes, ms: Date.now() - started, kernelDrops: (after?.drops ?? 0) - (before?.drops ?? 0), pauses };
}
