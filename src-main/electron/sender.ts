/** The origin the renderer is loaded from inside the app (see protocol.ts). */
export const APP_ORIGIN = 'dmlr://app';

/**
 * Only the app's own page may call the API: a frame navigated elsewhere, or any other content, is refused.
 * Pure so that it is tested under Node without Electron.
 */
export function isTrustedSender(frameUrl: string | undefined | null): boolean {
  if (!frameUrl) return false;
  try {
    const url = new URL(frameUrl);
    return url.protocol === 'dmlr:' && url.host === 'app';
  } catch {
    return false;
  }
}
