/**
 * How a composition looks: a preset, or custom regions in the shape of Twilio's
 * `video_layout`. Part of the public API (POST /v1/recordings and
 * POST /v1/recordings/{id}/compositions), so it is validated here with named fields.
 */
import { z } from 'zod';

export const LAYOUT_PRESETS = ['grid', 'speaker', 'single', 'audio_only', 'custom'] as const;

export const ResolutionSchema = z
  .string()
  .regex(/^\d{2,4}x\d{2,4}$/, 'resolution is WIDTHxHEIGHT, e.g. 1280x720')
  .refine((r) => {
    const [w, h] = r.split('x').map(Number) as [number, number];
    return w >= 16 && h >= 16 && w <= 3840 && h <= 2160 && w % 2 === 0 && h % 2 === 0;
  }, 'resolution is even, at least 16x16 and at most 3840x2160');
export const DEFAULT_RESOLUTION = '1280x720';

/** A glob over a track's id, peer id, display name or track type: `*` any run, `?` one character. */
const SourceGlobSchema = z.string().min(1).max(200);

/** One region of a custom layout (Twilio `video_layout` region). Coordinates are output pixels. */
export const RegionSchema = z
  .object({
    x_pos: z.number().int().min(0).default(0),
    y_pos: z.number().int().min(0).default(0),
    z_pos: z.number().int().min(-99).max(99).default(0),
    width: z.number().int().min(16).optional(),
    height: z.number().int().min(16).optional(),
    max_columns: z.number().int().min(1).max(1000).optional(),
    max_rows: z.number().int().min(1).max(1000).optional(),
    cells_excluded: z.array(z.number().int().min(0)).max(1000).default([]),
    /** When more sources match than there are cells: show none of the extra, the oldest, or the newest. */
    reuse: z.enum(['none', 'show_oldest', 'show_newest']).default('show_oldest'),
    video_sources: z.array(SourceGlobSchema).max(100).default([]),
    video_sources_excluded: z.array(SourceGlobSchema).max(100).default([]),
  })
  .strict();
export type Region = z.infer<typeof RegionSchema>;

export const LayoutSchema = z
  .object({
    preset: z.enum(LAYOUT_PRESETS),
    resolution: ResolutionSchema.optional(),
    /** Custom regions by name; required for `custom`, refused otherwise. */
    video_layout: z.record(z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'region names are 1-40 letters, digits, _ or -'), RegionSchema).optional(),
    /** Presets `grid`, `speaker`, `single`: only video tracks matching these globs (default all). */
    video_sources: z.array(SourceGlobSchema).max(100).optional(),
    /** Remove the stretches where no track has media (Twilio `trim`). Default true. */
    trim: z.boolean().optional(),
    /** Paused spans of the recording: cut out (`omit`, default) or kept as a paused slate with silence (`show`). */
    paused: z.enum(['omit', 'show']).optional(),
    background_color: z.string().regex(/^#[0-9A-Fa-f]{6}$/, 'background_color is #RRGGBB').optional(),
  })
  .strict()
  .superRefine((layout, ctx) => {
    if (layout.preset === 'custom') {
      const regions = Object.keys(layout.video_layout ?? {});
      if (regions.length === 0) ctx.addIssue({ code: 'custom', path: ['video_layout'], message: 'a custom layout needs at least one region' });
      if (regions.length > 16) ctx.addIssue({ code: 'custom', path: ['video_layout'], message: 'a custom layout has at most 16 regions' });
    } else if (layout.video_layout !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['video_layout'], message: 'video_layout is only for preset "custom"' });
    }
    if (layout.video_layout && layout.resolution) {
      const [w, h] = layout.resolution.split('x').map(Number) as [number, number];
      for (const [name, r] of Object.entries(layout.video_layout)) {
        if (r.x_pos >= w) ctx.addIssue({ code: 'custom', path: ['video_layout', name, 'x_pos'], message: `x_pos is outside the ${w}-pixel width` });
        if (r.y_pos >= h) ctx.addIssue({ code: 'custom', path: ['video_layout', name, 'y_pos'], message: `y_pos is outside the ${h}-pixel height` });
      }
    }
  });
export type Layout = z.infer<typeof LayoutSchema>;
export type LayoutInput = z.input<typeof LayoutSchema>;

/** Resolved options with their defaults applied: what a compositor actually uses. */
export interface ResolvedLayout {
  readonly preset: Layout['preset'];
  readonly width: number;
  readonly height: number;
  readonly regions: Readonly<Record<string, Region>>;
  readonly video_sources: readonly string[] | null;
  readonly trim: boolean;
  readonly paused: 'omit' | 'show';
  readonly background_color: string;
}

export function resolveLayout(layout: Layout): ResolvedLayout {
  const [width, height] = (layout.resolution ?? DEFAULT_RESOLUTION).split('x').map(Number) as [number, number];
  return {
    preset: layout.preset,
    width,
    height,
    regions: layout.video_layout ?? {},
    video_sources: layout.video_sources ?? null,
    trim: layout.trim ?? true,
    paused: layout.paused ?? 'omit',
    background_color: layout.background_color ?? '#000000',
  };
}
