/**
 * The recorder's audio/video alignment measured from the media: a beep-and-flash pattern
 * (test/support/beep-flash.ts: one GStreamer rtpbin, Opus and VP8 as two SSRCs, RTCP sender
 * reports on one clock) sent through a seeded impairment proxy to a standalone recorder
 * (test/support/recorder-harness.ts), then the two track files placed on the manifest's
 * timeline by their `offset_ms` and every flash paired with its beep
 * (test/support/sync-analysis.ts). The recorder aligns the tracks by the sender reports alone
 * (arrival times are never exact), so a wrong RTP→NTP mapping, a lost offset or a track file
 * that does not start at its first RTP timestamp shows up as a flash/beep offset.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest, ManifestTrack } from '../../shared/recording/manifest.ts';
import { beepFlashTracks, startBeepFlashSender, type BeepFlashPatternOptions, type BeepFlashSender } from '../support/beep-flash.ts';
import { startImpairmentProxy } from '../support/impairment-proxy.ts';
import { startRecorder, startRecorderStack, waitForIngest, type RecorderHandle, type RecorderStack } from '../support/recorder-harness.ts';
import { measureAvSyncPair } from '../support/sync-analysis.ts';

/** This file's UDP ports: 44000-44099, 16 per recorder process. */
const PORT_BASE = 44000;
/** The largest |beep − flash| accepted on the recorder's timeline. */
const TOLERANCE_MS = 40;

let stack: RecorderStack;
const started: { recorders: RecorderHandle[]; senders: BeepFlashSender[] } = { recorders: [], senders: [] };

beforeAll(async () => {
  stack = await startRecorderStack({ portBase: PORT_BASE, portCount: 100, slice: 16 });
}, 120_000);

afterEach(async () => {
  await Promise.all(started.senders.splice(0).map((s) => s.stop()));
  await Promise.all(started.recorders.splice(0).map((r) => r.signal('SIGKILL')));
});

afterAll(async () => {
  await stack?.stop();
});

interface Recorded {
  readonly manifest: Manifest;
  readonly audio: ManifestTrack;
  readonly video: ManifestTrack;
  readonly sender: BeepFlashSender;
  readonly proxy: { dropped: Record<'audio' | 'video', number>; reordered: Record<'audio' | 'video', number>; duplicated: Record<'audio' | 'video', number> };
}

/** One recording: a fresh recorder, the pattern through the proxy, stop, the manifest. */
async function recordPattern(pattern: BeepFlashPatternOptions, seed: number, ssrcs: { audio: number; video: number }): Promise<Recorded> {
  const queueUrl = await stack.jobQueue();
  started.recorders.push(await startRecorder(stack, { queueUrl }));
  const id = await stack.createRecording({ queueUrl, tracks: beepFlashTracks(ssrcs, { peer_id: 'flash' }), name: 'beep-flash' });
  const { host, port } = await waitForIngest(stack, id);
  const proxy = await startImpairmentProxy({ seed, loss: 0.02, reorder: 0.05, duplicate: 0.01, target: { host, port } });
  let sender: BeepFlashSender;
  try {
    sender = await startBeepFlashSender({ ...pattern, host: '127.0.0.1', rtpPort: proxy.rtpPort, rtcpPort: proxy.rtcpPort, ssrcs, onChild: (c) => stack.track(c) });
    started.senders.push(sender);
    await sender.wait();
  } finally {
    await proxy.close();
  }
  await stack.stopRecording(id);
  const view = await stack.waitForStatus(id, (v) => v.status === 'processing' && v.manifest !== null);
  const manifest = await stack.manifest(view);
  const audio = manifest.tracks.find((t) => t.ssrc === ssrcs.audio);
  const video = manifest.tracks.find((t) => t.ssrc === ssrcs.video);
  expect(audio, JSON.stringify(manifest.silent_tracks)).toBeDefined();
  expect(video, JSON.stringify(manifest.silent_tracks)).toBeDefined();
  const per = (f: (r: NonNullable<ReturnType<typeof proxy.report>>) => number) => ({ audio: f(proxy.report(ssrcs.audio)!), video: f(proxy.report(ssrcs.video)!) });
  return {
    manifest,
    audio: audio!,
    video: video!,
    sender: sender!,
    proxy: { dropped: per((r) => r.dropped.length), reordered: per((r) => r.reordered.length), duplicated: per((r) => r.duplicated.length) },
  };
}

async function expectAligned(label: string, recorded: Recorded) {
  const { manifest, audio, video, sender, proxy } = recorded;
  // Aligned by the sender reports, not by when packets happened to arrive.
  expect(audio.start_time_source).toBe('rtcp_sender_report');
  expect(video.start_time_source).toBe('rtcp_sender_report');
  // The proxy really did impair both streams.
  expect(proxy.dropped.audio + proxy.dropped.video).toBeGreaterThan(0);
  expect(proxy.reordered.audio + proxy.reordered.video).toBeGreaterThan(0);

  const [videoPath, audioPath] = await Promise.all([stack.download(video.key), stack.download(audio.key)]);
  const result = await measureAvSyncPair(videoPath, video.offset_ms, audioPath, audio.offset_ms);
  // Where the flashes landed on the manifest's timeline, against when the sender's clock says it showed them.
  const referenceMs = Date.parse(manifest.reference_time!);
  const placement = result.pairs.map((p) => {
    const instant = sender.plan.instantsS.reduce((best, t) => (Math.abs(t - p.flash_s) < Math.abs(best - p.flash_s) ? t : best), Infinity);
    return {
      instant_s: instant,
      flash_vs_sender_ms: Math.round((referenceMs + p.flash_s * 1000 - sender.wallClockMs(instant, 'video')!) * 10) / 10,
      beep_vs_sender_ms: Math.round((referenceMs + p.beep_s * 1000 - sender.wallClockMs(instant, 'audio')!) * 10) / 10,
    };
  });
  console.log(
    `${label}: ${JSON.stringify({
      offsets_ms: result.pairs.map((p) => p.offset_ms),
      max_abs_offset_ms: result.max_abs_offset_ms,
      mean_offset_ms: result.mean_offset_ms,
      track_offset_ms: { audio: audio.offset_ms, video: video.offset_ms },
      stats: { audio: audio.stats, video: video.stats },
      proxy,
      placement,
      unpaired: { flashes: result.unpaired_flashes_s, beeps: result.unpaired_beeps_s },
    })}`,
  );
  expect(result.pairs.length, JSON.stringify(result)).toBeGreaterThanOrEqual(3);
  for (const pair of result.pairs) expect(Math.abs(pair.offset_ms), JSON.stringify(result)).toBeLessThanOrEqual(TOLERANCE_MS);
  // Each flash is where the sender's own SRs put it (the manifest timeline is the sender's clock).
  for (const p of placement) {
    expect(Math.abs(p.flash_vs_sender_ms), JSON.stringify(placement)).toBeLessThanOrEqual(TOLERANCE_MS);
    expect(Math.abs(p.beep_vs_sender_ms), JSON.stringify(placement)).toBeLessThanOrEqual(TOLERANCE_MS);
  }
  return result;
}

describe('recorder A/V alignment, measured with beep and flash', () => {
  it('keeps audio and video within 40 ms through 2 % loss and 5 % reordering', async () => {
    const recorded = await recordPattern({ durationS: 8, periodS: 2 }, 0x5eed_a001, { audio: 0x00a1_0001, video: 0x00b1_0001 });
    await expectAligned('aligned start', recorded);
  });

  it('aligns a staggered start: audio begins 700 ms after video, the offsets in the manifest make up for it', async () => {
    const recorded = await recordPattern({ durationS: 8, periodS: 2, startOffsetMs: 700 }, 0x5eed_a002, { audio: 0x00a1_0002, video: 0x00b1_0002 });
    const result = await expectAligned('audio 700 ms late', recorded);
    // The audio file starts ~700 ms into the recording (unless its first packets were lost).
    expect(recorded.audio.offset_ms - recorded.video.offset_ms).toBeGreaterThan(600);
    expect(result.pairs.length).toBeGreaterThanOrEqual(3);
  });
});
