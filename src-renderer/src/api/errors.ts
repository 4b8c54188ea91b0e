import { ApiErrorBody } from '../../../src-shared/contract/index';

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
