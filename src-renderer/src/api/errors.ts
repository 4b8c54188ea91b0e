import { ApiErrorBody, methods, type MethodName, type Response } from '../../../src-shared/contract/index.js';

/** A failed API call, carrying the main side's code and its sentence for the user. */
export class ApiCallError extends Error {
  constructor(
    readonly method: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiCallError';
  }

  static from(method: string, body: unknown): ApiCallError {
    const parsed = ApiErrorBody.safeParse(body);
    return parsed.success
      ? new ApiCallError(method, parsed.data.code, parsed.data.message)
      : new ApiCallError(method, 'internal', `${method} failed`);
  }
}

/** An answer checked against the contract and decoded (packed arrays become arrays), as both clients read it. */
export function readAnswer<M extends MethodName>(method: M, value: unknown): Response<M> {
  const parsed = methods[method].response.safeParse(value);
  if (parsed.success) return parsed.data as Response<M>;
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? issue.path.join('.') : '(root)';
  throw new ApiCallError(
    method,
    'internal',
    `The ${method} answer broke the API contract: ${where}: ${issue?.message}`,
  );
}
