import type { ErrorCode } from '../../src-shared/contract/index.js';

/**
 * Errors a user can act on. `code` is stable for programs (CLI exit reasons, API error bodies); `message`
 * names the thing that is wrong and what to do about it.
 */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AppError';
  }
}

/** A request that does not match the API contract. */
export class InvalidRequestError extends AppError {
  constructor(message: string) {
    super('invalid_request', message);
  }
}

export class NotFoundError extends AppError {
  constructor(what: string) {
    super('not_found', `${what} was not found`);
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A validation failure's first issues, each as `field.path: message`: what a person needs to fix the payload. */
export function describeIssues(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): string {
  return issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.map(String).join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}
