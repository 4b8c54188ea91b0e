import { events, type EventName, type EventPayload } from '../../src-shared/contract/index.js';
import { describeIssues, errorMessage } from '../core/errors.js';

type Listener = (event: EventName, payload: unknown) => void;

/**
 * Typed fan-out of events to every connected client (IPC windows, WebSocket clients). Payloads are checked
 * against the contract on emit, so a transport never forwards something the renderer cannot parse.
 * Emitting never throws: it is called from worker message handlers and analysis callbacks, where an
 * exception would end the process. A payload that breaks the contract, or a listener that fails, is logged.
 */
export class EventBus {
  private readonly listeners = new Set<Listener>();

  constructor(private readonly log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)) {}

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    const checked = events[event].safeParse(payload);
    if (!checked.success) {
      this.log(
        `dmlreview: event ${event} not sent, it breaks the API contract: ${describeIssues(checked.error.issues)}`,
      );
      return;
    }
    for (const listener of this.listeners) {
      try {
        listener(event, checked.data);
      } catch (error) {
        this.log(`dmlreview: a listener of event ${event} failed: ${errorMessage(error)}`);
      }
    }
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
