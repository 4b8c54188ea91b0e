import type { ApiClient, PreloadBridge } from '../../../src-shared/contract/index';
import { createElectronClient } from './electron-client';
import { createHttpClient } from './http-client';

declare global {
  interface Window {
    dmlreview?: PreloadBridge;
  }
}

/** Picks the transport: the preload bridge inside Electron, else the review server that served this page. */
export function connectApi(): ApiClient {
  if (window.dmlreview) return createElectronClient(window.dmlreview);
  const token = new URLSearchParams(window.location.search).get('token') ?? '';
  return createHttpClient(window.location.origin, token);
}

export function nativeDialogs(): PreloadBridge['pickPaths'] | undefined {
  return window.dmlreview?.pickPaths.bind(window.dmlreview);
}

export { ApiCallError } from './errors';
