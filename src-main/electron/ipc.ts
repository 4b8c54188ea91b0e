import { dialog, ipcMain, type BrowserWindow } from 'electron';
import type { AppContext } from '../api/context.js';
import { createDispatcher, handlers } from '../api/index.js';
import { CALL_CHANNEL, DIALOG_CHANNEL, NOTIFY_CHANNEL } from './channels.js';
import { fromAppOnly } from './sender.js';

/**
 * Answers the preload bridge (src-shared/contract/bridge.ts). Every channel goes through the one sender check;
 * a call answers the dispatcher's envelope, errors included, so nothing is thrown across IPC.
 */
export function registerIpc(context: AppContext, window: BrowserWindow): () => void {
  const dispatch = createDispatcher(handlers, context);
  const handle = (channel: string, handler: (...args: unknown[]) => unknown) =>
    ipcMain.handle(channel, fromAppOnly(channel, handler));

  handle(CALL_CHANNEL, (method, payload) => dispatch(method, payload));
  handle(DIALOG_CHANNEL, (kind) => pickPaths(window, kind));

  const unsubscribe = context.notifications.subscribe((name, payload) => {
    if (!window.isDestroyed()) window.webContents.send(NOTIFY_CHANNEL, name, payload);
  });

  return () => {
    unsubscribe();
    ipcMain.removeHandler(CALL_CHANNEL);
    ipcMain.removeHandler(DIALOG_CHANNEL);
  };
}

async function pickPaths(window: BrowserWindow, kind: unknown): Promise<string[]> {
  const result = await dialog.showOpenDialog(window, {
    properties:
      kind === 'folder' ? ['openDirectory', 'createDirectory'] : ['openFile', 'openDirectory', 'multiSelections'],
    filters:
      kind === 'folder' ? [] : [{ name: 'Footage', extensions: ['mp4', 'mov', 'mkv', 'avi', 'webm', 'jpg', 'png'] }],
  });
  return result.canceled ? [] : result.filePaths;
}
