import {
  notifications,
  type ApiClient,
  type NotificationName,
  type NotificationPayload,
  type MethodName,
  type Request,
  type Response,
} from '../../../src-shared/contract/index';
import { ApiCallError, readAnswer } from './errors';

type Listener = (payload: unknown) => void;

/** The API over the review server: POST /api/<method>, notifications over one WebSocket, media under /media/. */
export function createHttpClient(origin: string, token: string): ApiClient {
  const listeners = new Map<NotificationName, Set<Listener>>();
  let socket: WebSocket | undefined;

  function connect(): void {
    const url = new URL('/api/notifications', origin);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('token', token);
    socket = new WebSocket(url);
    socket.onmessage = (message) => {
      const { name, payload } = JSON.parse(String(message.data)) as { name: NotificationName; payload: unknown };
      const parsed = notifications[name]?.safeParse(payload);
      if (parsed?.success) listeners.get(name)?.forEach((listener) => listener(parsed.data));
    };
    // The server restarts or the laptop sleeps: reconnect quietly, the next notification brings the state back.
    socket.onclose = () => {
      socket = undefined;
      if (listeners.size) setTimeout(connect, 1000);
    };
  }

  return {
    async call<M extends MethodName>(method: M, request: Request<M>): Promise<Response<M>> {
      const response = await fetch(new URL(`/api/${method}`, origin), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(request),
      });
      const body: unknown = await response.json();
      if (!response.ok) throw ApiCallError.from(method, body);
      return readAnswer(method, body);
    },
    on<N extends NotificationName>(name: N, listener: (payload: NotificationPayload<N>) => void) {
      if (!socket) connect();
      const set = listeners.get(name) ?? new Set<Listener>();
      set.add(listener as Listener);
      listeners.set(name, set);
      return () => set.delete(listener as Listener);
    },
    mediaUrl(path: string) {
      return `${origin}/media/${path}?token=${encodeURIComponent(token)}`;
    },
  };
}
