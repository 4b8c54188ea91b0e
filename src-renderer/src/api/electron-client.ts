import {
  CallEnvelope,
  notifications,
  type ApiClient,
  type NotificationName,
  type NotificationPayload,
  type MethodName,
  type PreloadBridge,
  type Request,
  type Response,
} from '../../../src-shared/contract/index.js';
import { ApiCallError, readAnswer } from './errors.js';

/** The API over Electron IPC: the same contract, checked on this side too. */
export function createElectronClient(bridge: PreloadBridge): ApiClient {
  return {
    async call<M extends MethodName>(method: M, request: Request<M>): Promise<Response<M>> {
      const envelope = CallEnvelope.safeParse(await bridge.call(method, request));
      if (!envelope.success) throw new ApiCallError(method, 'internal', `${method} answered no call envelope`);
      if (!envelope.data.ok) throw new ApiCallError(method, envelope.data.error.code, envelope.data.error.message);
      return readAnswer(method, envelope.data.value);
    },
    on<N extends NotificationName>(wanted: N, listener: (payload: NotificationPayload<N>) => void) {
      return bridge.onNotification((name, payload) => {
        if (name !== wanted) return;
        const parsed = notifications[wanted].safeParse(payload);
        if (parsed.success) listener(parsed.data as NotificationPayload<N>);
      });
    },
    // Same origin as the page (dmlr://app), so the CSP's 'self' covers images and fetch() needs no CORS.
    mediaUrl(path: string) {
      return `dmlr://app/media/${path}`;
    },
  };
}
