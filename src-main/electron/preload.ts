// Runs sandboxed: only `electron` may be required, so esbuild bundles the contract's method list in.
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import { isMethodName, isNotificationName, type PreloadBridge } from '../../src-shared/contract/index.js';
import { CALL_CHANNEL, DIALOG_CHANNEL, NOTIFY_CHANNEL } from './channels.js';

const bridge: PreloadBridge = {
  call(method, request) {
    if (!isMethodName(method)) {
      const message = `There is no API method named ${JSON.stringify(method)}`;
      return Promise.resolve({ ok: false, error: { code: 'unknown_method', message } });
    }
    return ipcRenderer.invoke(CALL_CHANNEL, method, request);
  },
  onNotification(listener) {
    const forward = (_event: IpcRendererEvent, name: unknown, payload: unknown) => {
      if (isNotificationName(name)) listener(name, payload);
    };
    ipcRenderer.on(NOTIFY_CHANNEL, forward);
    return () => ipcRenderer.removeListener(NOTIFY_CHANNEL, forward);
  },
  pathForFile(file) {
    return webUtils.getPathForFile(file);
  },
  pickPaths(kind) {
    return ipcRenderer.invoke(DIALOG_CHANNEL, kind === 'folder' ? 'folder' : 'footage');
  },
};

contextBridge.exposeInMainWorld('dmlreview', bridge);
