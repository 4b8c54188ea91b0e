import { notifications, type NotificationName, type NotificationPayload } from '../../src-shared/contract/index.js';
import { describeIssues, errorMessage } from '../core/errors.js';

type Listener = (name: NotificationName, payload: unknown) => void;

/**
 * Typed fan-out of notifications (progress, notices: what no request asked for) to every connected client (IPC windows, WebSocket clients). Payloads are checked
 * against the contract on emit, so a transport never forwards something the renderer cannot parse.
 * Emitting never throws: it is called from worker message handlers and analysis callbacks, where an
 * exception would end the process. A payload that breaks the contract, or a listener that fails, is logged.
 */
export class NotificationBus {
  private readonly listeners = new Set<Listener>();

  constructor(private readonly log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)) {}

  emit<N extends NotificationName>(name: N, payload: NotificationPayload<N>): void {
    const checked = notifications[name].safeParse(payload);
    if (!checked.success) {
      this.log(
        `dmlreview: notification ${name} not sent, it breaks the API contract: ${describeIssues(checked.error.issues)}`,
      );
      return;
    }
    for (const listener of this.listeners) {
      try {
        listener(name, checked.data);
      } catch (error) {
        this.log(`dmlreview: a listener of notification ${name} failed: ${errorMessage(error)}`);
      }
    }
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
