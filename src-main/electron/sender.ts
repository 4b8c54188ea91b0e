/** The origin the renderer is loaded from inside the app (see protocol.ts). */
export const APP_ORIGIN = 'dmlr://app';

/** The part of an Electron frame (WebFrameMain) the sender check reads. */
export interface SenderFrame {
  readonly url: string;
  /** Null for a window's main frame; a sub-frame (an iframe) has its parent. */
  readonly parent: unknown;
}

/**
 * Only the app's own page may call the main side: its main frame, loaded from our origin. A frame navigated
 * elsewhere, an iframe (even one of ours) or a frame already gone is refused. Pure, so tested without Electron.
 */
export function isTrustedSender(frame: SenderFrame | null | undefined): boolean {
  try {
    if (!frame || frame.parent !== null) return false;
    const url = new URL(frame.url);
    return url.protocol === 'dmlr:' && url.host === 'app';
  } catch {
    // A URL that does not parse, or a frame Electron disposed of, which throws on any property read.
    return false;
  }
}

/**
 * Wraps an IPC handler so that it runs only for the trusted sender; every channel is registered through this,
 * so no handler can forget the check. A refused sender gets a rejected call, not an API answer.
 */
export function fromAppOnly<Args extends unknown[], Result>(
  channel: string,
  handler: (...args: Args) => Result,
): (event: { readonly senderFrame: SenderFrame | null }, ...args: Args) => Result {
  return (event, ...args) => {
    if (!isTrustedSender(event.senderFrame))
      throw new Error(`IPC refused on ${channel}: the sender is not the dmlreview page`);
    return handler(...args);
  };
}
