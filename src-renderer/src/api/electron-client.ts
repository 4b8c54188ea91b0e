import {
  events as eventSchemas,
  methods,
  type ApiClient,
  type EventName,
  type EventPayload,
  type MethodName,
  type Request,
  type Response,
} from '../../../src-shared/contract/index';
import { ApiCallError } from './errors';

/** What the preload script exposes as window.dmlreview (src-main/electron/preload.ts). */
export interface PreloadBridge {
  call(method: string, request: unknown): Promise<unknown>;
  onEvent(listener: (event: string, payload: unknown) => void): () => void;
  pickPaths(kind: 'footage' | 'folder'): Promise<string[]>;
}

/** The API over Electron IPC: the same contract, checked on this side too. */
export function createElectronClient(bridge: PreloadBridge): ApiClient {
  return {
    async call<M extends MethodName>(method: M, request: Request<M>): Promise<Response<M>> {
      try {
        return methods[method].response.parse(await bridge.call(method, request)) as Response<M>;
      } catch (error) {
        throw ApiCallError.from(method, parseIpcError(error));
      }
    },
    on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void) {
      return bridge.onEvent((name, payload) => {
        if (name !== event) return;
        const parsed = eventSchemas[event].safeParse(payload);
        if (parsed.success) listener(parsed.data as EventPayload<E>);
      });
    },
    // Same origin as the page (dmlr://app), so the CSP's 'self' covers images and fetch() needs no CORS.
    mediaUrl(path: string) {
      return `dmlr://app/media/${path}`;
    },
  };
}

/** Electron wraps a handler's throw as "Error invoking remote method '...': Error: <json>". */
function parseIpcError(error: unknown): unknown {
  const text = error instanceof Error ? error.message : String(error);
  const json = text.slice(text.indexOf('{'));
  try {
    return JSON.parse(json);
  } catch {
    return { code: 'internal', message: text };
  }
}
