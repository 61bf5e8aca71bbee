/** Errors raised at the HTTP edge. The problem mapper turns these (and domain errors) into RFC 9457 responses. */
export interface FieldError {
  readonly path: string;
  readonly message: string;
}

export class RequestValidationError extends Error {
  constructor(readonly errors: readonly FieldError[], readonly where: 'body' | 'query' | 'path' | 'header' = 'body') {
    super(`invalid request ${where}: ${errors.map((e) => `${e.path || '(root)'}: ${e.message}`).join('; ')}`);
    this.name = 'RequestValidationError';
  }
}

export class MalformedJsonError extends Error {
  constructor(options?: ErrorOptions) {
    super('the request body is not valid JSON', options);
    this.name = 'MalformedJsonError';
  }
}

export class UnsupportedMediaTypeError extends Error {
  constructor(readonly received: string | undefined, readonly accepted: readonly string[]) {
    super(`content-type ${received ?? '(none)'} is not accepted here; send ${accepted.join(' or ')}`);
    this.name = 'UnsupportedMediaTypeError';
  }
}

export class PayloadTooLargeError extends Error {
  constructor(readonly bytes: number, readonly limit: number) {
    super(`the request body is ${bytes} bytes; the limit is ${limit}`);
    this.name = 'PayloadTooLargeError';
  }
}

export class UnauthorizedError extends Error {
  constructor(message = 'a valid bearer API key is required') {
    super(message);
    this.name = 'UnauthorizedError';
  }
}

export class RouteNotFoundError extends Error {
  constructor(readonly method: string, readonly path: string) {
    super(`no route for ${method} ${path}`);
    this.name = 'RouteNotFoundError';
  }
}

export class MethodNotAllowedError extends Error {
  constructor(readonly method: string, readonly allowed: readonly string[]) {
    super(`${method} is not allowed here; allowed: ${allowed.join(', ')}`);
    this.name = 'MethodNotAllowedError';
  }
}
