import { isMethodName, methods, type ApiErrorBody, type ErrorCode } from '../../src-shared/contract/index.js';
import type { AppContext } from './context.js';
import { AppError, describeIssues, errorMessage } from '../core/errors.js';
import { libraryError } from '../library/index.js';
import type { Handlers } from './handlers.js';

export type DispatchResult = { ok: true; value: unknown } | { ok: false; error: ApiErrorBody; status: number };

const statusOf: Partial<Record<ErrorCode, number>> = {
  invalid_request: 400,
  unknown_method: 404,
  not_found: 404,
  conflict: 409,
  analysis_owned: 409,
  library_read_only: 409,
  library_disk_full: 507,
};

/**
 * The single entry point both transports use: checks the method name and the payload against the contract,
 * runs the handler, and checks what it answers, so neither side can drift from the contract unnoticed.
 */
export function createDispatcher(handlers: Handlers, context: AppContext) {
  return async function dispatch(method: unknown, payload: unknown): Promise<DispatchResult> {
    if (!isMethodName(method)) {
      return failure('unknown_method', `There is no API method named ${JSON.stringify(method)}`);
    }
    const spec = methods[method];
    const parsed = spec.request.safeParse(payload ?? {});
    if (!parsed.success) {
      return failure('invalid_request', `Invalid request for ${method}: ${describeIssues(parsed.error.issues)}`);
    }
    try {
      const handler = handlers[method] as (request: unknown, ctx: AppContext) => unknown;
      const value = await handler(parsed.data, context);
      // Encoding checks the answer and packs its bulk arrays into their wire form (contract/packed.ts).
      const checked = spec.response.safeEncode(value as never);
      if (!checked.success) {
        return failure(
          'internal',
          `The ${method} answer broke the API contract: ${describeIssues(checked.error.issues)}`,
        );
      }
      return { ok: true, value: checked.data };
    } catch (error) {
      if (error instanceof AppError) return failure(error.code, error.message);
      // SQLite's own errors (a full disk, a read-only file, a lock) become the library's sentences.
      if (isSqliteError(error)) {
        const explained = libraryError(context.libraryPath, error);
        return failure(explained.code, explained.message);
      }
      return failure('internal', `${method} failed: ${errorMessage(error)}`);
    }
  };
}

function isSqliteError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_');
}

function failure(code: ErrorCode, message: string): DispatchResult {
  return { ok: false, error: { code, message }, status: statusOf[code] ?? (code === 'internal' ? 500 : 422) };
}

export type Dispatch = ReturnType<typeof createDispatcher>;
