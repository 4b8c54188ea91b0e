import { events, type EventName, type EventPayload } from '../../src-shared/contract/index.js';

type Listener = (event: EventName, payload: unknown) => void;

/**
 * Typed fan-out of events to every connected client (IPC windows, WebSocket clients). Payloads are checked
 * against the contract on emit, so a transport never forwards something the renderer cannot parse.
 */
export class EventBus {
  private readonly listeners = new Set<Listener>();

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    const checked = events[event].parse(payload);
    for (const listener of this.listeners) listener(event, checked);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
