import { z } from 'zod';
import { ApiErrorBody } from './common.js';

/**
 * What a call answers over Electron IPC: the dispatcher's result, a value or an error body. Errors travel as
 * data, never as a thrown Error whose message Electron would wrap in its own words.
 */
export const CallEnvelope = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), value: z.unknown() }),
  z.object({ ok: z.literal(false), error: ApiErrorBody }),
]);
export type CallEnvelope = z.infer<typeof CallEnvelope>;

/**
 * The whole surface the desktop app's page gets as `window.dmlreview` (src-main/electron/preload.ts implements
 * it, the renderer's Electron client uses it): call a contract method, listen to pushed notifications, turn a
 * dropped file into its path, open a native file dialog. Raw ipcRenderer never crosses the bridge.
 */
export interface PreloadBridge {
  call(method: string, request: unknown): Promise<CallEnvelope>;
  onNotification(listener: (name: string, payload: unknown) => void): () => void;
  /** The path of a file dropped on the window (drag-and-drop import). */
  pathForFile(file: File): string;
  pickPaths(kind: 'footage' | 'folder'): Promise<string[]>;
}
