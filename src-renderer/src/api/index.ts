import type { ApiClient, PreloadBridge } from '../../../src-shared/contract/index';
import { createElectronClient } from './electron-client';
import { createHttpClient } from './http-client';
import { savedTeamLibrary } from './team-library';

declare global {
  interface Window {
    dmlreview?: PreloadBridge;
  }
}

/**
 * Picks the transport: a team server when a team library is open (team-library.ts), else the preload bridge
 * inside Electron, else the review server that served this page.
 */
export function connectApi(): ApiClient {
  const team = savedTeamLibrary();
  if (team) return createHttpClient(team.origin, team.token);
  if (window.dmlreview) return createElectronClient(window.dmlreview);
  const token = new URLSearchParams(window.location.search).get('token') ?? '';
  return createHttpClient(window.location.origin, token);
}

/** The desktop app's file dialogs; none on a team library, whose server cannot read this machine's files. */
export function nativeDialogs(): PreloadBridge['pickPaths'] | undefined {
  if (savedTeamLibrary()) return undefined;
  return window.dmlreview?.pickPaths.bind(window.dmlreview);
}

export { ApiCallError } from './errors';
export { createHttpClient } from './http-client';
export {
  openOwnLibrary,
  openTeamLibrary,
  parseTeamLibrary,
  reloadNeeded,
  savedTeamLibrary,
  type TeamLibrary,
} from './team-library';
