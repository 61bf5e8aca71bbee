/**
 * Every error leaves as `application/problem+json` (RFC 9457). Unknown errors become a
 * plain 500 that names the request id and nothing else: no stack, no message from inside.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { CommandRetriesExhaustedError } from '../../../shared/eventstore/command-handler.ts';
import { InvalidCursorError } from '../../../shared/readmodel/port.ts';
import {
  ArtifactNotFoundError,
  CompositionBusyError,
  CompositionNotFoundError,
  IdempotencyConflictError,
  InvalidTransitionError,
  RecordingNotFoundError,
  TrackConflictError,
} from '../../../shared/recording/errors.ts';
import { WebhookNotFoundError, WebhookUrlRefusedError } from '../../../shared/webhook-endpoints/service.ts';
import { DeliveryNotFoundError, InvalidDeliveryCursorError, WebhookDisabledError } from '../../../shared/webhook-delivery/delivery-log.ts';
import {
  MalformedJsonError,
  MethodNotAllowedError,
  PayloadTooLargeError,
  RequestValidationError,
  RouteNotFoundError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
  type FieldError,
} from './errors.ts';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  request_id?: string;
  errors?: FieldError[];
}

const TYPE_BASE = 'https://capstan.dev/problems/';

interface Mapped {
  problem: Omit<Problem, 'type'> & { slug: string };
  headers?: Record<string, string>;
}

function map(error: unknown): Mapped | null {
  if (error instanceof RequestValidationError)
    return { problem: { slug: 'validation', title: 'Invalid request', status: 400, detail: error.message, errors: [...error.errors] } };
  if (error instanceof WebhookUrlRefusedError)
    return { problem: { slug: 'validation', title: 'Invalid request', status: 400, detail: error.message, errors: [{ path: 'url', message: error.reason }] } };
  if (error instanceof MalformedJsonError) return { problem: { slug: 'malformed-json', title: 'Malformed JSON', status: 400, detail: error.message } };
  if (error instanceof InvalidCursorError || error instanceof InvalidDeliveryCursorError)
    return { problem: { slug: 'validation', title: 'Invalid request', status: 400, detail: error.message, errors: [{ path: 'cursor', message: error.message }] } };
  if (error instanceof UnauthorizedError)
    return { problem: { slug: 'unauthorized', title: 'Unauthorized', status: 401, detail: error.message }, headers: { 'www-authenticate': 'Bearer' } };
  if (error instanceof RecordingNotFoundError || error instanceof RouteNotFoundError || error instanceof CompositionNotFoundError || error instanceof ArtifactNotFoundError || error instanceof WebhookNotFoundError || error instanceof DeliveryNotFoundError)
    return { problem: { slug: 'not-found', title: 'Not found', status: 404, detail: error.message } };
  if (error instanceof MethodNotAllowedError)
    return { problem: { slug: 'method-not-allowed', title: 'Method not allowed', status: 405, detail: error.message }, headers: { allow: error.allowed.join(', ') } };
  if (error instanceof InvalidTransitionError)
    return { problem: { slug: 'invalid-state', title: 'Conflict with the recording state', status: 409, detail: error.message } };
  if (error instanceof WebhookDisabledError)
    return { problem: { slug: 'webhook-disabled', title: 'Webhook disabled', status: 409, detail: error.message } };
  if (error instanceof CompositionBusyError)
    return { problem: { slug: 'composition-busy', title: 'Composition in progress elsewhere', status: 409, detail: error.message } };
  if (error instanceof TrackConflictError)
    return { problem: { slug: 'track-conflict', title: 'Track already registered', status: 409, detail: error.message } };
  if (error instanceof CommandRetriesExhaustedError)
    return { problem: { slug: 'contention', title: 'Too many concurrent changes', status: 409, detail: 'the recording changed concurrently too many times; retry the request' } };
  if (error instanceof PayloadTooLargeError) return { problem: { slug: 'payload-too-large', title: 'Payload too large', status: 413, detail: error.message } };
  if (error instanceof UnsupportedMediaTypeError)
    return { problem: { slug: 'unsupported-media-type', title: 'Unsupported media type', status: 415, detail: error.message } };
  if (error instanceof IdempotencyConflictError)
    return { problem: { slug: 'idempotency-key-reused', title: 'Idempotency key reused', status: 422, detail: error.message } };
  return null;
}

export function problemResponse(error: unknown, requestId: string, instance?: string): { response: APIGatewayProxyStructuredResultV2; expected: boolean } {
  const mapped = map(error);
  const { slug, ...rest } = mapped?.problem ?? {
    slug: 'internal',
    title: 'Internal error',
    status: 500,
    detail: `something went wrong on our side; quote request id ${requestId}`,
  };
  const problem: Problem = { type: `${TYPE_BASE}${slug}`, ...rest, instance, request_id: requestId };
  return {
    expected: mapped !== null,
    response: {
      statusCode: problem.status,
      headers: { 'content-type': 'application/problem+json', 'x-request-id': requestId, ...mapped?.headers },
      body: JSON.stringify(problem),
    },
  };
}
