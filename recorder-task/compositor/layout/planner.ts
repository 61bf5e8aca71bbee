/**
 * Manifest + layout → composition plan. Pure: the same manifest and layout always give the
 * same plan, so a re-run or a duplicate job renders the same thing.
 *
 * The source timeline is cut into elementary intervals at every instant something changes
 * (a track starts or ends, a peer leaves, a producer pauses, the speaker switches, the
 * recording pauses); each interval gets its layout; equal neighbours merge into segments;
 * cut spans (paused with `omit`, empty stretches with `trim`) are left out of the output.
 */
import { resolveLayout, type Layout, type Region, type ResolvedLayout } from '../../../shared/composition/layout.ts';
import type { Manifest, ManifestTrack } from '../../../shared/recording/manifest.ts';
import type { Box, CompositionPlan, Placement, PlanSegment, PlanSource } from '../plan/types.ts';
import { even, fixedCells, globMatcher, gridCells } from './geometry.ts';

export const DEFAULT_FPS = 30;
/** Empty stretches shorter than this are kept even with `trim`. */
export const TRIM_MIN_MS = 500;
/** An active-speaker switch holds at least this long. */
export const SPEAKER_HOLD_MS = 1000;

interface Span {
  from: number;
  to: number;
}

interface TrackTimes {
  readonly track: ManifestTrack;
  readonly presence: Span;
  /** Producer paused spans (video leaves the layout). */
  readonly hidden: Span[];
  /** Join order: first presence, then track id. */
  order: number;
}

interface TimelineEvent {
  readonly type: string;
  readonly peer_id: string;
  readonly ssrc?: number;
  readonly track_id?: string;
  readonly at: number;
}

const inside = (t: number, s: Span) => t >= s.from && t < s.to;

function timelineOf(manifest: Manifest, ref: number): TimelineEvent[] {
  return manifest.timeline
    .map((e) => ({
      type: String(e['type'] ?? ''),
      peer_id: String(e['peer_id'] ?? ''),
      ...(typeof e['ssrc'] === 'number' ? { ssrc: e['ssrc'] } : {}),
      ...(typeof e['track_id'] === 'string' ? { track_id: e['track_id'] } : {}),
      at: Date.parse(String(e['at'] ?? '')) - ref,
    }))
    .filter((e) => Number.isFinite(e.at))
    .sort((a, b) => a.at - b.at);
}

function trackTimes(manifest: Manifest, events: readonly TimelineEvent[]): TrackTimes[] {
  const times = manifest.tracks.map((track) => {
    const from = Math.round(track.offset_ms);
    let to = Math.round(track.offset_ms + track.duration_seconds * 1000);
    const left = events.find((e) => e.type === 'peer_left' && e.peer_id === track.peer_id && e.at > from && e.at < to);
    if (left) to = Math.round(left.at);
    const mine = (e: TimelineEvent) => (e.ssrc !== undefined && e.ssrc === track.ssrc) || (e.track_id !== undefined && e.track_id === track.track_id);
    const hidden: Span[] = [];
    let pausedAt: number | null = null;
    for (const e of events.filter(mine)) {
      if (e.type === 'producer_paused' && pausedAt === null) pausedAt = Math.max(from, e.at);
      if (e.type === 'producer_resumed' && pausedAt !== null) {
        if (e.at > pausedAt) hidden.push({ from: pausedAt, to: Math.min(to, e.at) });
        pausedAt = null;
      }
    }
    if (pausedAt !== null && pausedAt < to) hidden.push({ from: pausedAt, to });
    return { track, presence: { from, to }, hidden, order: 0 };
  });
  [...times]
    .sort((a, b) => a.presence.from - b.presence.from || (a.track.track_id < b.track.track_id ? -1 : 1))
    .forEach((t, i) => (t.order = i));
  return times;
}

/** Active-speaker switches with a minimum hold; a switch inside the hold waits for its end, or is superseded. */
export function speakerSwitches(events: readonly { at: number; peer_id: string }[], holdMs = SPEAKER_HOLD_MS): { at: number; peer_id: string }[] {
  const out: { at: number; peer_id: string }[] = [];
  let pending: { at: number; peer_id: string } | null = null;
  for (const e of events) {
    if (pending !== null && e.at >= pending.at) {
      out.push(pending);
      pending = null;
    }
    const last = out.at(-1);
    if (last?.peer_id === e.peer_id) {
      pending = null;
      continue;
    }
    if (last === undefined || e.at >= last.at + holdMs) out.push({ at: e.at, peer_id: e.peer_id });
    else pending = { at: last.at + holdMs, peer_id: e.peer_id };
  }
  if (pending !== null) out.push(pending);
  return out;
}

function sourceMatcher(globs: readonly string[]): (t: ManifestTrack) => boolean {
  const matchers = globs.map(globMatcher);
  return (t) => {
    const names = [t.track_id, t.peer_id, t.display_name, t.track_type].filter((n): n is string => n !== null);
    return matchers.some((m) => names.some(m));
  };
}

/** Placement state that outlives one interval (custom regions with `reuse: none`). */
type Sticky = Map<string, Map<string, number>>;

function placeCustom(regions: Readonly<Record<string, Region>>, layout: ResolvedLayout, active: readonly TrackTimes[], sticky: Sticky): Placement[] {
  const placements: Placement[] = [];
  for (const [name, region] of Object.entries(regions)) {
    const x = Math.min(even(region.x_pos), layout.width - 2);
    const y = Math.min(even(region.y_pos), layout.height - 2);
    const area: Box = {
      x,
      y,
      width: even(Math.min(region.width ?? layout.width - x, layout.width - x)),
      height: even(Math.min(region.height ?? layout.height - y, layout.height - y)),
      z: region.z_pos,
    };
    const include = sourceMatcher(region.video_sources);
    const exclude = sourceMatcher(region.video_sources_excluded);
    const matching = active.filter((t) => include(t.track) && !exclude(t.track));
    const excluded = new Set(region.cells_excluded);
    const bounded = region.max_columns !== undefined && region.max_rows !== undefined;
    const capacity = bounded ? region.max_columns! * region.max_rows! - [...excluded].filter((i) => i < region.max_columns! * region.max_rows!).length : Infinity;

    if (region.reuse === 'none' && bounded) {
      // Cells are fixed; a shown source keeps its cell for its lifetime, newcomers wait for a free one.
      const cells = fixedCells(area, region.max_columns!, region.max_rows!);
      const free = cells.map((_, i) => i).filter((i) => !excluded.has(i));
      const assigned = sticky.get(name) ?? new Map<string, number>();
      for (const id of [...assigned.keys()]) if (!matching.some((t) => t.track.track_id === id)) assigned.delete(id);
      for (const t of matching) {
        if (assigned.has(t.track.track_id)) continue;
        const cell = free.find((i) => ![...assigned.values()].includes(i));
        if (cell !== undefined) assigned.set(t.track.track_id, cell);
      }
      sticky.set(name, assigned);
      for (const [id, cell] of assigned) placements.push({ track_id: id, box: cells[cell]! });
      continue;
    }
    const shown = region.reuse === 'show_newest' ? matching.slice(Math.max(0, matching.length - capacity)) : matching.slice(0, capacity);
    // Lay out shown sources plus the excluded cells that fall before them, then skip those.
    let slots = shown.length;
    while (slots - [...excluded].filter((i) => i < slots).length < shown.length) slots++;
    const cells = gridCells(area, slots, {
      ...(region.max_columns !== undefined ? { maxColumns: region.max_columns } : {}),
      ...(region.max_rows !== undefined ? { maxRows: region.max_rows } : {}),
    }).filter((_, i) => !excluded.has(i));
    shown.forEach((t, i) => {
      const box = cells[i];
      if (box) placements.push({ track_id: t.track.track_id, box });
    });
  }
  return placements;
}

function placeVideo(layout: ResolvedLayout, active: readonly TrackTimes[], speaker: string | null, sticky: Sticky): Placement[] {
  const frame: Box = { x: 0, y: 0, width: layout.width, height: layout.height, z: 0 };
  switch (layout.preset) {
    case 'audio_only':
      return [];
    case 'grid':
      return gridCells(frame, active.length).map((box, i) => ({ track_id: active[i]!.track.track_id, box }));
    case 'single':
      return active.length === 0 ? [] : [{ track_id: active[0]!.track.track_id, box: frame }];
    case 'speaker': {
      if (active.length === 0) return [];
      const main =
        active.find((t) => t.track.track_type === 'screen') ??
        (speaker !== null ? active.find((t) => t.track.peer_id === speaker) : undefined) ??
        active[0]!;
      const others = active.filter((t) => t !== main);
      if (others.length === 0) return [{ track_id: main.track.track_id, box: frame }];
      const stripH = even(layout.height / 5);
      const tileW = Math.min(even((stripH * 16) / 9), even(layout.width));
      const shown = others.slice(0, Math.max(1, Math.floor(layout.width / tileW)));
      const left = even((layout.width - shown.length * tileW) / 2);
      return [
        { track_id: main.track.track_id, box: { x: 0, y: 0, width: layout.width, height: layout.height - stripH, z: 0 } },
        ...shown.map((t, i) => ({ track_id: t.track.track_id, box: { x: left + i * tileW, y: layout.height - stripH, width: tileW, height: stripH, z: 1 } })),
      ];
    }
    case 'custom':
      return placeCustom(layout.regions, layout, active, sticky).sort((a, b) => a.box.z - b.box.z);
  }
}

const samePlacements = (a: readonly Placement[], b: readonly Placement[]) => JSON.stringify(a) === JSON.stringify(b);

export function planComposition(manifest: Manifest, layoutInput: Layout, options: { fps?: number } = {}): CompositionPlan {
  const layout = resolveLayout(layoutInput);
  const fps = options.fps ?? DEFAULT_FPS;
  const empty: CompositionPlan = { width: layout.width, height: layout.height, fps, background_color: layout.background_color, audio_only: true, sources: [], segments: [], duration_ms: 0, cuts: [] };
  if (manifest.reference_time === null || manifest.tracks.length === 0) return empty;
  const ref = Date.parse(manifest.reference_time);
  const events = timelineOf(manifest, ref);
  const tracks = trackTimes(manifest, events).filter((t) => t.presence.to > t.presence.from);
  if (tracks.length === 0) return empty;
  const end = Math.max(...tracks.map((t) => t.presence.to));

  const videoFilter = layout.video_sources === null ? () => true : sourceMatcher(layout.video_sources);
  const videos = tracks.filter((t) => t.track.kind === 'video' && videoFilter(t.track)).sort((a, b) => a.order - b.order);
  const audioOnly = layout.preset === 'audio_only' || videos.length === 0;
  const paused: Span[] = manifest.paused_spans
    .map((s) => ({ from: Math.max(0, Date.parse(s.from) - ref), to: Math.min(end, s.to === null ? end : Date.parse(s.to) - ref) }))
    .filter((s) => s.to > s.from);
  const switches = layout.preset === 'speaker' ? speakerSwitches(events.filter((e) => e.type === 'active_speaker')) : [];

  // Every instant where something may change.
  const edges = new Set<number>([0, end]);
  for (const t of tracks) [t.presence.from, t.presence.to, ...t.hidden.flatMap((h) => [h.from, h.to])].forEach((v) => edges.add(v));
  for (const p of paused) [p.from, p.to].forEach((v) => edges.add(Math.round(v)));
  for (const s of switches) edges.add(Math.round(s.at));
  const points = [...edges].filter((v) => v >= 0 && v <= end).sort((a, b) => a - b);

  // Cuts: paused spans (omit), then empty stretches (trim).
  const cuts: { source_from_ms: number; source_to_ms: number; reason: 'paused' | 'trim' }[] = [];
  if (layout.paused === 'omit') for (const p of paused) cuts.push({ source_from_ms: Math.round(p.from), source_to_ms: Math.round(p.to), reason: 'paused' });
  if (layout.trim) {
    let emptyFrom: number | null = null;
    for (let i = 0; i < points.length; i++) {
      const at = points[i]!;
      const present = i < points.length - 1 && tracks.some((t) => inside(at, t.presence));
      if (!present && emptyFrom === null) emptyFrom = at;
      if ((present || i === points.length - 1) && emptyFrom !== null) {
        if (at - emptyFrom >= TRIM_MIN_MS) cuts.push({ source_from_ms: emptyFrom, source_to_ms: at, reason: 'trim' });
        emptyFrom = null;
      }
    }
  }
  const isCut = (t: number) => cuts.some((c) => t >= c.source_from_ms && t < c.source_to_ms);

  const sticky: Sticky = new Map();
  const segments: PlanSegment[] = [];
  let output = 0;
  let previousTo: number | null = null;
  for (let i = 0; i < points.length - 1; i++) {
    const from = points[i]!;
    const to = points[i + 1]!;
    if (to <= from || isCut(from)) continue;
    const mid = (from + to) / 2;
    const slate = layout.paused === 'show' && paused.some((p) => inside(mid, p)) ? 'paused' : 'none';
    const active = audioOnly || slate === 'paused' ? [] : videos.filter((t) => inside(mid, t.presence) && !t.hidden.some((h) => inside(mid, h)));
    const speaker = [...switches].reverse().find((s) => s.at <= mid)?.peer_id ?? null;
    const placements = placeVideo(layout, active, speaker, sticky);
    const last = segments.at(-1);
    if (last && previousTo === from && last.slate === slate && samePlacements(last.placements, placements)) {
      segments[segments.length - 1] = { ...last, source_to_ms: to };
    } else {
      segments.push({ source_from_ms: from, source_to_ms: to, output_from_ms: output, placements, slate });
    }
    output += to - from;
    previousTo = to;
  }

  const kept = (t: TrackTimes) => segments.some((s) => t.presence.from < s.source_to_ms && t.presence.to > s.source_from_ms);
  const placed = new Set(segments.flatMap((s) => s.placements.map((p) => p.track_id)));
  const sources: PlanSource[] = tracks
    .filter((t) => (t.track.kind === 'audio' ? kept(t) : placed.has(t.track.track_id)))
    .sort((a, b) => a.order - b.order)
    .map(({ track, presence }) => ({
      track_id: track.track_id,
      kind: track.kind,
      file_name: track.file_name,
      offset_ms: track.offset_ms,
      duration_ms: presence.to - presence.from,
      peer_id: track.peer_id,
      display_name: track.display_name,
      track_type: track.track_type,
    }));
  return {
    width: layout.width,
    height: layout.height,
    fps,
    background_color: layout.background_color,
    audio_only: audioOnly,
    sources,
    segments,
    duration_ms: output,
    cuts: cuts.sort((a, b) => a.source_from_ms - b.source_from_ms),
  };
}
