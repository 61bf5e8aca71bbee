/**
 * Compositions: one rendering of a recording's manifest with a layout and a set of outputs.
 * A recording's *initial* composition uses the layout and outputs it was created with and
 * gates its completion; more can be requested later (re-composition) from the same manifest.
 *
 * A composition's id is derived from what it renders, so "one job per recording and layout"
 * holds by construction: a duplicate trigger or a repeated request names the same
 * composition, and its outputs land on the same keys.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from '../json.ts';
import { ArtifactSchema, FailureSchema, OutputSchema, type Output } from '../recording/model.ts';
import { LayoutSchema, ResolutionSchema, type Layout } from './layout.ts';

/** Outputs a compositor renders (`transcript` comes from elsewhere). */
export const COMPOSED_OUTPUTS: readonly Output[] = ['composite.mp4', 'audio.m4a', 'audio.mp3', 'audio.wav', 'tracks', 'thumbnails'];

export const CompositionSpecSchema = z.object({ layout: LayoutSchema, outputs: z.array(OutputSchema) });
export type CompositionSpec = z.infer<typeof CompositionSpecSchema>;

export const COMPOSITION_ID_PATTERN = /^cmp_[0-9a-f]{24}$/;

/** The outputs a compositor acts on, in a canonical order. */
export function composedOutputs(outputs: readonly Output[]): Output[] {
  return COMPOSED_OUTPUTS.filter((o) => outputs.includes(o));
}

export function compositionId(spec: CompositionSpec): string {
  const canonical = canonicalJson({ layout: spec.layout, outputs: composedOutputs(spec.outputs) });
  return `cmp_${createHash('sha256').update(canonical).digest('hex').slice(0, 24)}`;
}

/**
 * Artifact names are flat (they are one URL path segment). The initial composition's files
 * keep their plain names (`composite.mp4`); a re-composition's are prefixed with its id.
 */
export function compositionArtifactName(compositionIdValue: string, initial: boolean, fileName: string): string {
  return initial ? fileName : `${compositionIdValue}.${fileName}`;
}

/** The `{name}` part of the object key for a composition's file. */
export function compositionObjectName(compositionIdValue: string, initial: boolean, fileName: string): string {
  return initial ? fileName : `compositions/${compositionIdValue}/${fileName}`;
}

export const COMPOSITION_STATUSES = ['requested', 'running', 'completed', 'failed'] as const;
export const CompositionStatusSchema = z.enum(COMPOSITION_STATUSES);
export type CompositionStatus = z.infer<typeof CompositionStatusSchema>;

/** Time without a sign of life after which another compositor may take a running composition over. */
export const DEFAULT_COMPOSITION_LEASE_SECONDS = 600;

export const CompositionRequestSchema = z
  .object({
    layout: LayoutSchema,
    outputs: z
      .array(OutputSchema)
      .min(1)
      .max(10)
      .refine((o) => new Set(o).size === o.length, { message: 'outputs must not repeat' })
      .refine((o) => o.some((x) => COMPOSED_OUTPUTS.includes(x)), { message: `outputs need at least one of ${COMPOSED_OUTPUTS.join(', ')}` })
      .optional(),
    /** Shorthand for `layout.resolution`. */
    resolution: ResolutionSchema.optional(),
    /** Shorthand for `layout.trim`. */
    trim: z.boolean().optional(),
  })
  .strict();
export type CompositionRequest = z.infer<typeof CompositionRequestSchema>;

/** Fold the request's shorthands into the layout; outputs default to the recording's. */
export function specFromRequest(request: CompositionRequest, recordingOutputs: readonly Output[]): CompositionSpec {
  const layout: Layout = {
    ...request.layout,
    ...(request.resolution !== undefined ? { resolution: request.resolution } : {}),
    ...(request.trim !== undefined ? { trim: request.trim } : {}),
  };
  return { layout, outputs: composedOutputs(request.outputs ?? recordingOutputs) };
}

export const CompositionResourceSchema = z.object({
  id: z.string(),
  recording_id: z.string(),
  status: CompositionStatusSchema,
  initial: z.boolean(),
  /** What asked for it: the recording's manifest being written, or the API. */
  trigger: z.enum(['manifest', 'api']),
  layout: LayoutSchema,
  outputs: z.array(OutputSchema),
  progress: z.number().min(0).max(100),
  attempts: z.number().int(),
  requested_at: z.string(),
  started_at: z.string().nullable(),
  completed_at: z.string().nullable(),
  duration_seconds: z.number().nullable(),
  artifacts: z.array(ArtifactSchema.omit({ key: true })),
  failure: FailureSchema.nullable(),
});
export type CompositionResource = z.infer<typeof CompositionResourceSchema>;

export const CompositionListSchema = z.object({ items: z.array(CompositionResourceSchema) });

export const ArtifactResourceSchema = ArtifactSchema.omit({ key: true }).extend({
  url: z.string(),
  url_expires_at: z.string(),
});
export const ArtifactListSchema = z.object({ items: z.array(ArtifactResourceSchema) });
