/**
 * `/health` and `/metrics` of the recorder. Counters are the sum over live sessions plus
 * what ended sessions left behind, so they only ever grow (as Prometheus expects).
 */
import { MALFORMED_REASONS } from './rtp/header.ts';
import type { RecorderConfig } from './config.ts';
import type { RecordingSession } from './session.ts';
import type { TaskProtectionState } from './task-protection.ts';
import type { RecorderWorker } from './worker.ts';

type Totals = Record<string, number>;

function sessionTotals(session: RecordingSession): Totals {
  const r = session.router;
  let lost = 0;
  let duplicates = 0;
  let reordered = 0;
  for (const s of r.ssrcStats.values()) {
    lost += s.lost;
    duplicates += s.duplicates;
    reordered += s.reordered;
  }
  return {
    datagrams: r.counters.datagrams,
    bytes: r.counters.bytes,
    rtp: r.counters.rtp,
    rtcp: r.counters.rtcp,
    rtcp_muxed: r.counters.rtcpMuxed,
    lost,
    duplicates,
    reordered,
    unknown_ssrc: r.counters.unknownSsrcPackets,
    ssrc_changes: r.counters.ssrcChanges,
    ...Object.fromEntries(Object.entries(r.dropped).map(([reason, n]) => [`dropped:${reason}`, n])),
  };
}

export function recorderMetrics(worker: RecorderWorker, config: RecorderConfig, protection?: { readonly state: TaskProtectionState }) {
  const ended: Totals = {};
  const seen = new Set<RecordingSession>();
  const totals = (): Totals => {
    const live = [...worker.sessions.values()];
    for (const s of seen) {
      if (!live.includes(s)) {
        for (const [k, v] of Object.entries(sessionTotals(s))) ended[k] = (ended[k] ?? 0) + v;
        seen.delete(s);
      }
    }
    const sum: Totals = { ...ended };
    for (const s of live) {
      seen.add(s);
      for (const [k, v] of Object.entries(sessionTotals(s))) sum[k] = (sum[k] ?? 0) + v;
    }
    return sum;
  };

  const render = (): string => {
    const t = totals();
    const live = [...worker.sessions.values()];
    const minBuffer = live.length === 0 ? 0 : Math.min(...live.map((s) => s.sockets.recvBufferBytes));
    const lines: string[] = [];
    const metric = (name: string, type: 'counter' | 'gauge', help: string, samples: [string, number][]) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples.map(([labels, v]) => `${name}${labels} ${v}`));
    };
    metric('capstan_recorder_packets_received_total', 'counter', 'RTP packets received', [['', t['rtp'] ?? 0]]);
    metric('capstan_recorder_rtcp_packets_received_total', 'counter', 'RTCP packets received', [['', t['rtcp'] ?? 0]]);
    metric('capstan_recorder_rtcp_muxed_total', 'counter', 'RTCP packets that arrived on the RTP port (RFC 5761 muxing)', [['', t['rtcp_muxed'] ?? 0]]);
    metric('capstan_recorder_bytes_received_total', 'counter', 'UDP payload bytes received', [['', t['bytes'] ?? 0]]);
    metric('capstan_recorder_packets_lost_total', 'counter', 'RTP packets missing by sequence number (expected minus received)', [['', t['lost'] ?? 0]]);
    metric('capstan_recorder_packets_duplicate_total', 'counter', 'RTP packets received more than once', [['', t['duplicates'] ?? 0]]);
    metric('capstan_recorder_packets_reordered_total', 'counter', 'RTP packets that arrived after a later one', [['', t['reordered'] ?? 0]]);
    metric('capstan_recorder_packets_unknown_ssrc_total', 'counter', 'RTP packets of an SSRC nobody registered (held for a late registration)', [['', t['unknown_ssrc'] ?? 0]]);
    metric('capstan_recorder_ssrc_changes_total', 'counter', 'New SSRCs on a payload type already latched (mid-stream SSRC change)', [['', t['ssrc_changes'] ?? 0]]);
    metric(
      'capstan_recorder_packets_dropped_total',
      'counter',
      'Datagrams dropped, by reason',
      [...MALFORMED_REASONS, 'unknown_ssrc_expired', 'unknown_ssrc_overflow', 'rtcp_malformed'].map((reason) => [`{reason="${reason}"}`, t[`dropped:${reason}`] ?? 0]),
    );
    metric('capstan_recorder_sessions', 'gauge', 'Recordings being captured', [['', live.length]]);
    metric('capstan_recorder_uploads_pending', 'gauge', 'Sealed segments not yet in S3', [['', live.reduce((n, s) => n + s.stats.uploader.pendingUploads, 0)]]);
    metric('capstan_recorder_spill_bytes', 'gauge', 'Bytes of segments waiting on local disk', [['', live.reduce((n, s) => n + s.stats.uploader.spillBytes, 0)]]);
    metric('capstan_recorder_segment_gaps_total', 'counter', 'Segments dropped because the spill limit was reached', [['', live.reduce((n, s) => n + s.stats.uploader.gaps, 0)]]);
    metric('capstan_recorder_socket_receive_buffer_bytes', 'gauge', 'Smallest effective UDP receive buffer of the open sessions', [['', minBuffer]]);
    metric('capstan_recorder_socket_receive_buffer_configured_bytes', 'gauge', 'Configured UDP receive buffer', [['', config.CAPSTAN_RECORDER_RECV_BUFFER_BYTES]]);
    metric('capstan_recorder_jobs_total', 'counter', 'Jobs taken from the queue', [['', worker.counters.jobs]]);
    metric('capstan_recorder_recoveries_total', 'counter', 'Recordings recovered after a recorder died', [['', worker.counters.recovered]]);
    if (protection?.state.enabled) {
      const p = protection.state;
      metric('capstan_recorder_task_protected', 'gauge', 'Whether the ECS agent confirmed task scale-in protection (1) or not (0)', [['', p.protected ? 1 : 0]]);
      metric('capstan_recorder_task_protection_failures_total', 'counter', 'Task scale-in protection updates the ECS agent refused or did not answer', [['', p.failures]]);
    }
    metric('capstan_recorder_process_resident_memory_bytes', 'gauge', 'Resident set size', [['', process.memoryUsage.rss()]]);
    return `${lines.join('\n')}\n`;
  };

  const health = () => {
    const live = [...worker.sessions.values()];
    const capped = live.some((s) => s.sockets.recvBufferBytes < config.CAPSTAN_RECORDER_RECV_BUFFER_BYTES);
    return {
      ok: true,
      body: {
        status: 'ok',
        sessions: live.length,
        ports_in_use: worker.portsInUse,
        ...(protection?.state.enabled ? { task_protected: protection.state.protected } : {}),
        ...(capped ? { warnings: ['the kernel capped the UDP receive buffer below the configured size; raise net.core.rmem_max'] } : {}),
      },
    };
  };

  return { render, health, totals };
}
