import type { ErrorCode } from '../errors/error-codes.js';

/** The protocol's code for an HTTP status without one of its own. */
export function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
    case 405:
    case 415:
      return 'VALIDATION';
    case 401:
    case 403:
      return 'UNAUTHORIZED';
    case 404:
      return 'NOT_FOUND';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 429:
      return 'RATE_LIMITED';
    case 503:
      return 'UNAVAILABLE';
    default:
      return status >= 500 ? 'INTERNAL' : 'VALIDATION';
  }
}

const SENTENCES: Partial<Record<ErrorCode, string>> = {
  VALIDATION: 'The request is not valid',
  UNAUTHORIZED: 'A valid admin token is required',
  NOT_FOUND: 'Nothing is here',
  PAYLOAD_TOO_LARGE: 'The request body is too large',
  RATE_LIMITED: 'Too many requests; try again later',
  UNAVAILABLE: 'A service the server needs is unavailable; try again later',
  INTERNAL: 'An unexpected error occurred in the server',
};

/**
 * Any error body in the protocol's shape `{ error, code }`: a body that already has both is
 * kept; Nest's and Express's own (`{ statusCode, message }`, a string) become a sentence and
 * the status's code. A 404 of an unknown route names the route, nothing else is echoed.
 */
export function errorBody(body: unknown, status: number): { error: string; code: string } {
  if (isParleyBody(body)) return body;
  const code = codeForStatus(status);
  const message = typeof body === 'object' && body !== null ? (body as { message?: unknown }).message : body;
  const error =
    code === 'NOT_FOUND' && typeof message === 'string' && /^Cannot [A-Z]+ /.test(message)
      ? `No such route: ${message.slice('Cannot '.length)}`
      : code === 'INTERNAL'
        ? SENTENCES.INTERNAL!
        : typeof message === 'string' && message.length > 0 && message.length <= 300
          ? message
          : SENTENCES[code]!;
  return { error, code };
}

export function isParleyBody(body: unknown): body is { error: string; code: string } {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as { error?: unknown }).error === 'string' &&
    typeof (body as { code?: unknown }).code === 'string'
  );
}
