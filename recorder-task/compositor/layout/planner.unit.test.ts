import { describe, expect, it } from 'vitest';
import type { Layout } from '../../../shared/composition/layout.ts';
import type { Manifest, ManifestTrack } from '../../../shared/recording/manifest.ts';
import { gridCells, globMatcher } from './geometry.ts';
import { planComposition, speakerSwitches } from './planner.ts';

const REF = Date.parse('2026-11-23T10:00:00.000Z');
const iso = (ms: number) => new Date(REF + ms).toISOString();

function track(id: string, kind: 'audio' | 'video', offset_ms: number, duration_ms: number, extra: Partial<ManifestTrack> = {}): ManifestTrack {
  return {
    track_id: id, ssrc: id.length * 1000 + offset_ms, peer_id: id.split('-')[0]!, display_name: id.split('-')[0]!, track_type: kind === 'audio' ? 'microphone' : 'camera',
    kind, codec: kind === 'audio' ? 'opus' : 'vp8', payload_type: 96, clock_rate: 90000, channels: null, key: `k/${id}`, file_name: `${id}.webm`, container: 'webm',
    content_type: 'video/webm', bytes: 1, sha256: '', duration_seconds: duration_ms / 1000, first_packet_at: iso(offset_ms), last_packet_at: iso(offset_ms + duration_ms),
    first_rtp_timestamp: 0, first_sequence: 0, start_time: iso(offset_ms), start_time_source: 'rtcp_sender_report', offset_ms, rtp_ntp_mappings: [], gaps: [],
    stats: { packets: 1, lost: 0, duplicates: 0, reordered: 0, frames: 1, keyframes: 1 },
    ...extra,
  };
}

function manifest(tracks: ManifestTrack[], extra: Partial<Manifest> = {}): Manifest {
  return {
    manifest_version: 1, recording_id: 'rec_1', tenant_id: 't', recorder_id: 'r', written_at: iso(0), reference_time: iso(0), started_at: iso(0), stopped_at: iso(60_000),
    stop_reason: 'api', recovered: false, ingest: null, segments: [], unreadable_segments: [], tracks, silent_tracks: [], timeline: [], paused_spans: [], capture_gaps: [],
    interruptions: [], counters: {}, ...extra,
  };
}

const grid: Layout = { preset: 'grid', resolution: '1280x720' };
/** Each segment as [source from, to, output from, [track ids]] for compact assertions. */
const shape = (plan: ReturnType<typeof planComposition>) => plan.segments.map((s) => [s.source_from_ms, s.source_to_ms, s.output_from_ms, s.placements.map((p) => p.track_id)]);

describe('grid', () => {
  it('follows the active video tracks over time: 1 → 2 → 3 → 4 → 3, with exact boxes and a centred last row', () => {
    const plan = planComposition(
      manifest([track('a-v', 'video', 0, 10_000), track('b-v', 'video', 2000, 8000), track('c-v', 'video', 4000, 6000), track('d-v', 'video', 6000, 2000), track('a-a', 'audio', 0, 10_000)]),
      grid,
    );
    expect(shape(plan)).toEqual([
      [0, 2000, 0, ['a-v']],
      [2000, 4000, 2000, ['a-v', 'b-v']],
      [4000, 6000, 4000, ['a-v', 'b-v', 'c-v']],
      [6000, 8000, 6000, ['a-v', 'b-v', 'c-v', 'd-v']],
      [8000, 10_000, 8000, ['a-v', 'b-v', 'c-v']],
    ]);
    expect(plan.segments[0]!.placements[0]!.box).toEqual({ x: 0, y: 0, width: 1280, height: 720, z: 0 });
    expect(plan.segments[1]!.placements.map((p) => p.box)).toEqual([
      { x: 0, y: 0, width: 640, height: 720, z: 0 },
      { x: 640, y: 0, width: 640, height: 720, z: 0 },
    ]);
    expect(plan.segments[2]!.placements.map((p) => p.box)).toEqual([
      { x: 0, y: 0, width: 640, height: 360, z: 0 },
      { x: 640, y: 0, width: 640, height: 360, z: 0 },
      { x: 320, y: 360, width: 640, height: 360, z: 0 },
    ]);
    expect(plan.duration_ms).toBe(10_000);
    expect(plan.audio_only).toBe(false);
    // Join order; a tie goes by track id.
    expect(plan.sources.map((s) => s.track_id)).toEqual(['a-a', 'a-v', 'b-v', 'c-v', 'd-v']);
  });

  it('a peer_left ends that peer’s tracks early; a producer pause takes the video out of the grid meanwhile', () => {
    const m = manifest([track('a-v', 'video', 0, 10_000), track('b-v', 'video', 0, 10_000, { ssrc: 77 })], {
      timeline: [
        { type: 'producer_paused', peer_id: 'b', ssrc: 77, at: iso(2000) },
        { type: 'producer_resumed', peer_id: 'b', ssrc: 77, at: iso(3000) },
        { type: 'peer_left', peer_id: 'b', at: iso(7000) },
      ],
    });
    expect(shape(planComposition(m, grid))).toEqual([
      [0, 2000, 0, ['a-v', 'b-v']],
      [2000, 3000, 2000, ['a-v']],
      [3000, 7000, 3000, ['a-v', 'b-v']],
      [7000, 10_000, 7000, ['a-v']],
    ]);
  });

  it('uses only the tracks its video_sources globs match (id, peer, display name or type)', () => {
    const m = manifest([track('a-v', 'video', 0, 5000), track('s-v', 'video', 0, 5000, { track_type: 'screen' })]);
    expect(shape(planComposition(m, { ...grid, video_sources: ['scr*'] }))).toEqual([[0, 5000, 0, ['s-v']]]);
    expect(shape(planComposition(m, { ...grid, video_sources: ['a'] }))).toEqual([[0, 5000, 0, ['a-v']]]);
  });
});

describe('pauses, trim and timing', () => {
  const m = (paused: { from: string; to: string | null }[]) =>
    manifest([track('a-v', 'video', 0, 10_000), track('a-a', 'audio', 0, 10_000)], { paused_spans: paused });

  it('omits paused spans by default and says so in cuts', () => {
    const plan = planComposition(m([{ from: iso(3000), to: iso(5000) }]), grid);
    expect(shape(plan)).toEqual([
      [0, 3000, 0, ['a-v']],
      [5000, 10_000, 3000, ['a-v']],
    ]);
    expect(plan.duration_ms).toBe(8000);
    expect(plan.cuts).toEqual([{ source_from_ms: 3000, source_to_ms: 5000, reason: 'paused' }]);
  });

  it('shows paused spans as a slate with nothing placed when asked', () => {
    const plan = planComposition(m([{ from: iso(3000), to: null }]), { ...grid, paused: 'show' });
    expect(plan.segments.map((s) => [s.source_from_ms, s.source_to_ms, s.slate, s.placements.length])).toEqual([
      [0, 3000, 'none', 1],
      [3000, 10_000, 'paused', 0],
    ]);
    expect(plan.duration_ms).toBe(10_000);
  });

  it('trims stretches where nobody has media (≥ 500 ms), keeps shorter ones, and can be told not to', () => {
    const tracks = [track('a-a', 'audio', 0, 2000), track('b-a', 'audio', 5000, 2000), track('c-a', 'audio', 7300, 1000)];
    const plan = planComposition(manifest(tracks), { preset: 'audio_only' });
    expect(plan.cuts).toEqual([{ source_from_ms: 2000, source_to_ms: 5000, reason: 'trim' }]);
    expect(plan.duration_ms).toBe(2000 + 3300);
    expect(plan.segments.map((s) => [s.source_from_ms, s.source_to_ms, s.output_from_ms])).toEqual([
      [0, 2000, 0],
      [5000, 8300, 2000],
    ]);
    expect(planComposition(manifest(tracks), { preset: 'audio_only', trim: false }).duration_ms).toBe(8300);
  });

  it('audio_only places nothing and keeps only audio sources; no tracks gives an empty plan', () => {
    const plan = planComposition(manifest([track('a-v', 'video', 0, 1000), track('a-a', 'audio', 0, 1000)]), { preset: 'audio_only' });
    expect(plan.audio_only).toBe(true);
    expect(plan.sources.map((s) => s.kind)).toEqual(['audio']);
    expect(plan.segments.every((s) => s.placements.length === 0)).toBe(true);
    expect(planComposition(manifest([], { reference_time: null }), grid)).toMatchObject({ duration_ms: 0, segments: [], sources: [] });
  });
});

describe('speaker', () => {
  const people = [track('a-v', 'video', 0, 20_000), track('b-v', 'video', 0, 20_000), track('c-v', 'video', 0, 20_000)];

  it('puts the active speaker large and the others in a bottom strip, holding each switch ≥ 1 s', () => {
    const m = manifest(people, {
      timeline: [
        { type: 'active_speaker', peer_id: 'b', at: iso(5000) },
        { type: 'active_speaker', peer_id: 'c', at: iso(5300) }, // inside b's hold: waits until 6000
        { type: 'active_speaker', peer_id: 'a', at: iso(12_000) },
      ],
    });
    const plan = planComposition(m, { preset: 'speaker', resolution: '1280x720' });
    expect(plan.segments.map((s) => [s.source_from_ms, s.placements[0]!.track_id])).toEqual([
      [0, 'a-v'],
      [5000, 'b-v'],
      [6000, 'c-v'],
      [12_000, 'a-v'],
    ]);
    const [main, ...strip] = plan.segments[1]!.placements;
    expect(main!.box).toEqual({ x: 0, y: 0, width: 1280, height: 576, z: 0 });
    expect(strip.map((p) => [p.track_id, p.box])).toEqual([
      ['a-v', { x: 384, y: 576, width: 256, height: 144, z: 1 }],
      ['c-v', { x: 640, y: 576, width: 256, height: 144, z: 1 }],
    ]);
  });

  it('a screen share takes the main area', () => {
    const m = manifest([...people, track('b-screen', 'video', 2000, 3000, { peer_id: 'b', track_type: 'screen' })]);
    const plan = planComposition(m, { preset: 'speaker' });
    expect(plan.segments.map((s) => [s.source_from_ms, s.placements[0]!.track_id])).toEqual([
      [0, 'a-v'],
      [2000, 'b-screen'],
      [5000, 'a-v'],
    ]);
  });

  it('speakerSwitches drops a switch superseded inside the hold and ignores repeats', () => {
    expect(speakerSwitches([{ at: 0, peer_id: 'a' }, { at: 200, peer_id: 'b' }, { at: 400, peer_id: 'a' }, { at: 2000, peer_id: 'a' }])).toEqual([{ at: 0, peer_id: 'a' }]);
  });
});

describe('single', () => {
  it('shows the first joined source full frame, and the next one when it leaves', () => {
    const plan = planComposition(manifest([track('a-v', 'video', 0, 4000), track('b-v', 'video', 1000, 6000)]), { preset: 'single', resolution: '640x360' });
    expect(shape(plan)).toEqual([
      [0, 4000, 0, ['a-v']],
      [4000, 7000, 4000, ['b-v']],
    ]);
    expect(plan.segments[1]!.placements[0]!.box).toEqual({ x: 0, y: 0, width: 640, height: 360, z: 0 });
  });
});

describe('custom regions (Twilio video_layout)', () => {
  const people = ['a', 'b', 'c', 'd'].map((p, i) => track(`${p}-v`, 'video', i * 1000, 10_000 - i * 1000));
  const custom = (region: Record<string, unknown>): Layout =>
    ({ preset: 'custom', resolution: '1280x720', video_layout: { main: { x_pos: 0, y_pos: 0, z_pos: 0, cells_excluded: [], reuse: 'show_oldest', video_sources: ['*'], video_sources_excluded: [], ...region } } }) as Layout;

  it('places a region by x/y/width/height/z and lays its sources out as a grid', () => {
    const layout = {
      preset: 'custom',
      resolution: '1280x720',
      video_layout: {
        pip: { x_pos: 960, y_pos: 540, z_pos: 2, width: 320, height: 180, cells_excluded: [], reuse: 'show_oldest', video_sources: ['d*'], video_sources_excluded: [] },
        main: { x_pos: 0, y_pos: 0, z_pos: 1, cells_excluded: [], reuse: 'show_oldest', video_sources: ['*'], video_sources_excluded: ['d*'] },
      },
    } as Layout;
    const last = planComposition(manifest(people), layout).segments.at(-1)!;
    expect(last.placements.map((p) => [p.track_id, p.box])).toEqual([
      ['a-v', { x: 0, y: 0, width: 640, height: 360, z: 1 }],
      ['b-v', { x: 640, y: 0, width: 640, height: 360, z: 1 }],
      ['c-v', { x: 320, y: 360, width: 640, height: 360, z: 1 }],
      ['d-v', { x: 960, y: 540, width: 320, height: 180, z: 2 }],
    ]);
  });

  it('max_columns/max_rows cap the cells; show_oldest and show_newest pick which sources fill them', () => {
    const oldest = planComposition(manifest(people), custom({ max_columns: 2, max_rows: 1 })).segments.at(-1)!;
    expect(oldest.placements.map((p) => p.track_id)).toEqual(['a-v', 'b-v']);
    const newest = planComposition(manifest(people), custom({ max_columns: 2, max_rows: 1, reuse: 'show_newest' })).segments.at(-1)!;
    expect(newest.placements.map((p) => p.track_id)).toEqual(['c-v', 'd-v']);
  });

  it('reuse none keeps a shown source in its cell; a newcomer waits for a free cell', () => {
    const m = manifest([track('a-v', 'video', 0, 3000), track('b-v', 'video', 1000, 9000), track('c-v', 'video', 2000, 8000)]);
    const plan = planComposition(m, custom({ max_columns: 2, max_rows: 1, reuse: 'none' }));
    expect(plan.segments.map((s) => [s.source_from_ms, s.placements.map((p) => [p.track_id, p.box.x])])).toEqual([
      [0, [['a-v', 0]]],
      [1000, [['a-v', 0], ['b-v', 640]]],
      [3000, [['b-v', 640], ['c-v', 0]]],
    ]);
  });

  it('cells_excluded leaves cells empty (an unfilled last row is centred, as in grid)', () => {
    const last = planComposition(manifest(people.slice(0, 2)), custom({ max_columns: 2, max_rows: 2, cells_excluded: [0] })).segments.at(-1)!;
    expect(last.placements.map((p) => [p.track_id, p.box.x, p.box.y])).toEqual([
      ['a-v', 640, 0],
      ['b-v', 320, 360],
    ]);
  });
});

describe('geometry', () => {
  it('grid cells are even-sized and inside the frame for awkward sizes', () => {
    for (const n of [1, 2, 3, 5, 7, 10]) {
      for (const box of gridCells({ x: 0, y: 0, width: 854, height: 480, z: 0 }, n)) {
        expect([box.x, box.y, box.width, box.height].every((v) => v % 2 === 0)).toBe(true);
        expect(box.x + box.width).toBeLessThanOrEqual(854);
        expect(box.y + box.height).toBeLessThanOrEqual(480);
      }
    }
  });

  it('globs: * and ? only, everything else literal', () => {
    expect(globMatcher('scr*')('screen')).toBe(true);
    expect(globMatcher('a?c')('abc')).toBe(true);
    expect(globMatcher('a.c')('abc')).toBe(false);
    expect(globMatcher('*')('')).toBe(true);
  });
});
