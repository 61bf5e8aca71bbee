/**
 * A seeded UDP impairment proxy for RTP tests: it listens on a local port pair and forwards to
 * a recorder's ingest (RTP to `port`, RTCP to `port + 1`). On the RTP leg it drops, reorders
 * (holds a packet back and sends it after the next 1–3 forwarded packets of the same SSRC) and
 * duplicates packets; the RTCP leg is forwarded unimpaired. Every decision is recorded per SSRC
 * by sequence number, so a test can predict exactly what the receiver must report.
 *
 * Randomness is mulberry32 seeded per SSRC (`seed ^ ssrc`): the n-th packet of an SSRC gets
 * the same fate on every run, whatever the interleaving with other senders.
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { mulberry32 } from './prng.ts';

export { mulberry32 };

export interface ImpairmentOptions {
  readonly seed: number;
  /** Probability that an RTP packet is dropped (default 0.05). */
  readonly loss?: number;
  /** Probability that an RTP packet is held back and sent after the next 1–3 (default 0.10). */
  readonly reorder?: number;
  /** Probability that an RTP packet is sent twice (default 0.01). */
  readonly duplicate?: number;
  /** Where to forward: RTP to `port`, RTCP to `port + 1`. */
  readonly target: { host: string; port: number };
  readonly host?: string;
  /** A held packet whose stream went quiet is sent anyway after this long (default 200 ms). */
  readonly holdLimitMs?: number;
}

/** What the proxy did to one SSRC, in the order the sender sent. */
export interface SsrcReport {
  readonly ssrc: number;
  /** Packets received from the sender. */
  received: number;
  /** Distinct packets forwarded (each once, duplicates not counted again). */
  forwarded: number;
  /** Sequence numbers dropped (never forwarded). */
  readonly dropped: number[];
  /** Sequence numbers forwarded twice in a row. */
  readonly duplicated: number[];
  /** Sequence numbers forwarded after at least one later packet of the same SSRC. */
  readonly reordered: number[];
  /** Extended sequence numbers (unwrapped in sending order, starting at 65536 + the first). */
  readonly droppedExtended: number[];
  firstForwardedExtended: number;
  lastForwardedExtended: number;
  /** Lowest and highest extended sequence number forwarded. */
  minForwardedExtended: number;
  maxForwardedExtended: number;
  firstForwardedAtMs: number;
  lastForwardedAtMs: number;
}

interface SsrcState {
  readonly report: SsrcReport;
  readonly random: () => number;
  lastExtended: number;
  held: { data: Buffer; sequence: number; extended: number; remaining: number; passed: number; sinceMs: number } | undefined;
}

export interface ImpairmentProxy {
  /** Send RTP here. */
  readonly rtpPort: number;
  /** Send RTCP here (forwarded unimpaired to target port + 1). */
  readonly rtcpPort: number;
  report(ssrc: number): SsrcReport | undefined;
  readonly reports: ReadonlyMap<number, SsrcReport>;
  /** Drops the proxy decided that lie between the first and last packet forwarded (what a receiver can count as lost). */
  expectedLost(ssrc: number): number;
  /** Send any held packet now. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

async function bindSocket(host: string): Promise<Socket> {
  const socket = createSocket('udp4');
  socket.bind(0, host);
  await once(socket, 'listening');
  return socket;
}

export async function startImpairmentProxy(options: ImpairmentOptions): Promise<ImpairmentProxy> {
  const host = options.host ?? '127.0.0.1';
  const loss = options.loss ?? 0.05;
  const reorder = options.reorder ?? 0.1;
  const duplicate = options.duplicate ?? 0.01;
  const holdLimitMs = options.holdLimitMs ?? 200;
  const { target } = options;
  const rtpIn = await bindSocket(host);
  const rtcpIn = await bindSocket(host);
  const out = await bindSocket(host);
  const states = new Map<number, SsrcState>();
  const reports = new Map<number, SsrcReport>();
  const pending = new Set<Promise<void>>();

  const send = (data: Buffer, port: number) => {
    const sent = new Promise<void>((resolve) => out.send(data, port, target.host, () => resolve()));
    pending.add(sent);
    void sent.finally(() => pending.delete(sent));
  };

  const forward = (state: SsrcState, data: Buffer, extended: number) => {
    send(data, target.port);
    const r = state.report;
    const now = Date.now();
    if (r.forwarded === 0) {
      r.firstForwardedAtMs = now;
      r.firstForwardedExtended = extended;
      r.minForwardedExtended = extended;
      r.maxForwardedExtended = extended;
    }
    r.forwarded++;
    r.lastForwardedAtMs = now;
    r.lastForwardedExtended = extended;
    r.minForwardedExtended = Math.min(r.minForwardedExtended, extended);
    r.maxForwardedExtended = Math.max(r.maxForwardedExtended, extended);
  };

  const release = (state: SsrcState) => {
    const held = state.held;
    if (held === undefined) return;
    state.held = undefined;
    forward(state, held.data, held.extended);
    if (held.passed > 0) state.report.reordered.push(held.sequence);
  };

  rtpIn.on('message', (data) => {
    if (data.length < 12 || data[0]! >> 6 !== 2) return send(data, target.port);
    const ssrc = data.readUInt32BE(8);
    const sequence = data.readUInt16BE(2);
    let state = states.get(ssrc);
    if (state === undefined) {
      const report: SsrcReport = {
        ssrc,
        received: 0,
        forwarded: 0,
        dropped: [],
        duplicated: [],
        reordered: [],
        droppedExtended: [],
        firstForwardedExtended: -1,
        lastForwardedExtended: -1,
        minForwardedExtended: -1,
        maxForwardedExtended: -1,
        firstForwardedAtMs: 0,
        lastForwardedAtMs: 0,
      };
      state = { report, random: mulberry32((options.seed ^ ssrc) >>> 0), lastExtended: 0x1_0000 + sequence, held: undefined };
      states.set(ssrc, state);
      reports.set(ssrc, report);
    }
    // Unwrap in sending order (the sender does not reorder): nearest to the previous value.
    const extended = state.report.received === 0 ? state.lastExtended : state.lastExtended + (((sequence - (state.lastExtended & 0xffff)) << 16) >> 16);
    state.lastExtended = extended;
    state.report.received++;
    // One roll decides the fate: [0, loss) drop, then reorder, then duplicate, else plain.
    const r = state.random();
    if (r < loss) {
      state.report.dropped.push(sequence);
      state.report.droppedExtended.push(extended);
      return;
    }
    if (r < loss + reorder) {
      // One packet held per SSRC at a time: a second one due while another waits goes plainly.
      if (state.held === undefined) {
        state.held = { data: Buffer.from(data), sequence, extended, remaining: 1 + Math.floor(state.random() * 3), passed: 0, sinceMs: Date.now() };
        return;
      }
      forward(state, data, extended);
    } else if (r < loss + reorder + duplicate) {
      forward(state, data, extended);
      send(data, target.port);
      state.report.duplicated.push(sequence);
    } else {
      forward(state, data, extended);
    }
    const held = state.held;
    if (held !== undefined) {
      held.passed++;
      if (--held.remaining === 0) release(state);
    }
  });
  rtcpIn.on('message', (data) => send(data, target.port + 1));

  const timer = setInterval(() => {
    const now = Date.now();
    for (const state of states.values()) if (state.held !== undefined && now - state.held.sinceMs > holdLimitMs) release(state);
  }, 20);

  const flush = async () => {
    for (const state of states.values()) release(state);
    await Promise.all([...pending]);
  };

  return {
    rtpPort: rtpIn.address().port,
    rtcpPort: rtcpIn.address().port,
    report: (ssrc) => reports.get(ssrc),
    reports,
    expectedLost: (ssrc) => {
      const r = reports.get(ssrc);
      if (r === undefined || r.forwarded === 0) return 0;
      return r.droppedExtended.filter((e) => e > r.minForwardedExtended && e < r.maxForwardedExtended).length;
    },
    flush,
    close: async () => {
      clearInterval(timer);
      await flush();
      await Promise.all([rtpIn, rtcpIn, out].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
