import { dialog, ipcMain, type BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import type { AppContext } from '../api/context.js';
import { createDispatcher, handlers } from '../api/index.js';
import { CALL_CHANNEL, DIALOG_CHANNEL, EVENT_CHANNEL } from './channels.js';
import { isTrustedSender } from './sender.js';

/** Answers the preload bridge, refusing any message whose sender frame is not the app's own page. */
export function registerIpc(context: AppContext, window: BrowserWindow): () => void {
  const dispatch = createDispatcher(handlers, context);
  const checkSender = (event: IpcMainInvokeEvent) => {
    if (!isTrustedSender(event.senderFrame?.url)) throw new Error('IPC refused: the sender is not the dmlreview page');
  };

  ipcMain.handle(CALL_CHANNEL, async (event, method: unknown, payload: unknown) => {
    checkSender(event);
    const result = await dispatch(method, payload);
    if (result.ok) return result.value;
    throw new Error(JSON.stringify(result.error));
  });

  ipcMain.handle(DIALOG_CHANNEL, async (event, kind: unknown) => {
    checkSender(event);
    const result = await dialog.showOpenDialog(window, {
      properties:
        kind === 'folder' ? ['openDirectory', 'createDirectory'] : ['openFile', 'openDirectory', 'multiSelections'],
      filters:
        kind === 'folder' ? [] : [{ name: 'Footage', extensions: ['mp4', 'mov', 'mkv', 'avi', 'webm', 'jpg', 'png'] }],
    });
    return result.canceled ? [] : result.filePaths;
  });

  const unsubscribe = context.events.subscribe((name, payload) => {
    if (!window.isDestroyed()) window.webContents.send(EVENT_CHANNEL, name, payload);
  });

  return () => {
    unsubscribe();
    ipcMain.removeHandler(CALL_CHANNEL);
    ipcMain.removeHandler(DIALOG_CHANNEL);
  };
}
