/** Routes for an rtp recording's tracks (JSON descriptors or an SDP) and its room timeline. */
import { z } from 'zod';
import type { RecordingService } from '../../../shared/recording/service.ts';
import {
  RegisteredTrackSchema,
  RegisterTracksRequestSchema,
  RoomEventsRequestSchema,
  TimelineEntrySchema,
  tracksFromSdp,
} from '../../../shared/recording/tracks.ts';
import { RequestValidationError } from '../http/errors.ts';
import { json, jsonBody, mediaType, parseWith, textBody, type ApiRequest } from '../http/request.ts';
import type { Route } from '../http/router.ts';

const ERRORS = {
  400: { description: 'A field is invalid; `errors` names each one' },
  401: { description: 'Missing or unknown API key' },
  404: { description: 'No such recording for this tenant' },
  409: { description: 'Not an rtp recording, the capture has ended, or the SSRC is registered with another codec' },
  413: { description: 'Body too large' },
  415: { description: 'Unsupported content type' },
} as const;

export function trackRoutes(service: RecordingService, maxBodyBytes: number): Route[] {
  const ctx = (req: ApiRequest) => ({ tenantId: req.tenantId, requestId: req.requestId });
  const id = (req: ApiRequest) => req.params['id'] ?? '';

  function descriptors(req: ApiRequest) {
    if (mediaType(req) === 'application/sdp') {
      const { tracks, errors } = tracksFromSdp(textBody(req, ['application/sdp'], maxBodyBytes));
      if (errors.length > 0) throw new RequestValidationError(errors);
      if (tracks.length === 0) throw new RequestValidationError([{ path: 'sdp', message: 'describes no opus, vp8, vp9 or h264 stream' }]);
      return parseWith(RegisterTracksRequestSchema, { tracks }, 'body').tracks;
    }
    return jsonBody(req, RegisterTracksRequestSchema, maxBodyBytes).tracks;
  }

  return [
    {
      method: 'POST',
      path: '/v1/recordings/{id}/tracks',
      doc: {
        summary: 'Register tracks: JSON descriptors, or an SDP (application/sdp) as ffmpeg -sdp_file writes',
        operationId: 'registerTracks',
        tags: ['tracks'],
        requestBody: RegisterTracksRequestSchema,
        alsoAccepts: ['application/sdp'],
        responses: { 201: { description: 'The tracks this request registered', schema: z.object({ items: z.array(RegisteredTrackSchema) }) }, ...ERRORS },
      },
      handle: async (req) => json(201, { items: await service.registerTracks(ctx(req), id(req), descriptors(req)) }),
    },
    {
      method: 'POST',
      path: '/v1/recordings/{id}/room-events',
      doc: {
        summary: 'Append peer joined/left, producer paused/resumed and active-speaker events to the timeline',
        operationId: 'recordRoomEvents',
        tags: ['tracks'],
        requestBody: RoomEventsRequestSchema,
        responses: { 201: { description: 'The timeline entries appended', schema: z.object({ items: z.array(TimelineEntrySchema) }) }, ...ERRORS },
      },
      handle: async (req) => {
        const body = jsonBody(req, RoomEventsRequestSchema, maxBodyBytes);
        return json(201, { items: await service.recordRoomEvents(ctx(req), id(req), body.events) });
      },
    },
  ];
}
