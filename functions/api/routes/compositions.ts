/** Compositions of a recording (re-composition with another layout) and its downloadable artifacts. */
import {
  ArtifactListSchema,
  CompositionListSchema,
  CompositionRequestSchema,
  CompositionResourceSchema,
} from '../../../shared/composition/model.ts';
import type { Clock } from '../../../shared/clock.ts';
import type { Presigner } from '../../../shared/media/downloads.ts';
import { ArtifactNotFoundError } from '../../../shared/recording/errors.ts';
import type { Artifact } from '../../../shared/recording/model.ts';
import type { RecordingService } from '../../../shared/recording/service.ts';
import { json, jsonBody, type ApiRequest, type ApiResponse } from '../http/request.ts';
import type { Route } from '../http/router.ts';
import { toCompositionResource } from '../representation.ts';

const ERRORS = {
  400: { description: 'A field is invalid; `errors` names each one' },
  401: { description: 'Missing or unknown API key' },
  404: { description: 'No such recording (or composition, or artifact) for this tenant' },
} as const;

export interface CompositionRouteDeps {
  readonly service: RecordingService;
  readonly presign: Presigner;
  readonly clock: Clock;
  readonly maxBodyBytes: number;
}

export function compositionRoutes(deps: CompositionRouteDeps): Route[] {
  const { service } = deps;
  const ctx = (req: ApiRequest) => ({ tenantId: req.tenantId, requestId: req.requestId });
  const id = (req: ApiRequest) => req.params['id'] ?? '';

  async function link(artifact: Artifact) {
    const { key, ...shown } = artifact;
    const { url, expires_at } = await deps.presign(key, { fileName: artifact.name, contentType: artifact.content_type, now: deps.clock.now() });
    return { ...shown, url, url_expires_at: expires_at };
  }

  async function redirect(req: ApiRequest): Promise<ApiResponse> {
    const name = decodeURIComponent(req.params['name'] ?? '');
    const artifact = (await service.artifacts(ctx(req), id(req))).find((a) => a.name === name);
    if (artifact === undefined) throw new ArtifactNotFoundError(name);
    const { url } = await link(artifact);
    return { statusCode: 302, headers: { location: url, 'cache-control': 'no-store' }, body: '' };
  }

  return [
    {
      method: 'POST',
      path: '/v1/recordings/{id}/compositions',
      doc: {
        summary: 'Compose the recording again with another layout, outputs or resolution',
        operationId: 'createComposition',
        tags: ['compositions'],
        requestBody: CompositionRequestSchema,
        responses: {
          201: { description: 'Requested; a compositor job starts', schema: CompositionResourceSchema },
          200: { description: 'The same layout and outputs were already requested (and are not failed or stalled): that composition', schema: CompositionResourceSchema },
          ...ERRORS,
          409: { description: 'The recording has no manifest yet, or was deleted' },
        },
      },
      handle: async (req) => {
        const body = jsonBody(req, CompositionRequestSchema, deps.maxBodyBytes);
        const { composition, created } = await service.requestComposition(ctx(req), id(req), body);
        return json(created ? 201 : 200, toCompositionResource(id(req), composition), {
          location: `/v1/recordings/${id(req)}/compositions/${composition.id}`,
        });
      },
    },
    {
      method: 'GET',
      path: '/v1/recordings/{id}/compositions',
      doc: { summary: 'List the compositions of a recording with their status', operationId: 'listCompositions', tags: ['compositions'], responses: { 200: { description: 'OK', schema: CompositionListSchema }, ...ERRORS } },
      handle: async (req) => json(200, { items: (await service.compositions(ctx(req), id(req))).map((c) => toCompositionResource(id(req), c)) }),
    },
    {
      method: 'GET',
      path: '/v1/recordings/{id}/compositions/{composition_id}',
      doc: { summary: 'One composition', operationId: 'getComposition', tags: ['compositions'], responses: { 200: { description: 'OK', schema: CompositionResourceSchema }, ...ERRORS } },
      handle: async (req) => json(200, toCompositionResource(id(req), await service.composition(ctx(req), id(req), req.params['composition_id'] ?? ''))),
    },
    {
      method: 'GET',
      path: '/v1/recordings/{id}/artifacts',
      doc: {
        summary: 'Every file of the recording that exists now, with presigned download URLs',
        operationId: 'listArtifacts',
        tags: ['artifacts'],
        responses: { 200: { description: 'OK', schema: ArtifactListSchema }, ...ERRORS },
      },
      handle: async (req) => json(200, { items: await Promise.all((await service.artifacts(ctx(req), id(req))).map(link)) }),
    },
    {
      method: 'GET',
      path: '/v1/recordings/{id}/artifacts/{name}',
      doc: {
        summary: 'Download one artifact: 302 to a presigned URL (Range requests work on it)',
        operationId: 'downloadArtifact',
        tags: ['artifacts'],
        responses: { 302: { description: 'Redirect to the presigned URL' }, ...ERRORS },
      },
      handle: redirect,
    },
  ];
}
