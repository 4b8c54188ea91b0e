// Runs sandboxed: only `electron` may be required, so esbuild bundles the contract's method list in.
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import { isEventName, isMethodName } from '../../src-shared/contract/index.js';
import { CALL_CHANNEL, DIALOG_CHANNEL, EVENT_CHANNEL } from './channels.js';

type EventListener = (event: string, payload: unknown) => void;

/**
 * The whole surface the page gets: call a contract method, listen to contract events, open a native file
 * dialog. Raw ipcRenderer never crosses the bridge.
 */
const bridge = {
  call(method: string, request: unknown): Promise<unknown> {
    if (!isMethodName(method)) return Promise.reject(new Error(`Unknown API method ${method}`));
    return ipcRenderer.invoke(CALL_CHANNEL, method, request);
  },
  onEvent(listener: EventListener): () => void {
    const forward = (_event: IpcRendererEvent, name: unknown, payload: unknown) => {
      if (isEventName(name)) listener(name, payload);
    };
    ipcRenderer.on(EVENT_CHANNEL, forward);
    return () => ipcRenderer.removeListener(EVENT_CHANNEL, forward);
  },
  /** The path of a file dropped on the window (drag-and-drop import). */
  pathForFile(file: File): string {
    return webUtils.getPathForFile(file);
  },
  pickPaths(kind: 'footage' | 'folder'): Promise<string[]> {
    return ipcRenderer.invoke(DIALOG_CHANNEL, kind === 'folder' ? 'folder' : 'footage');
  },
};

contextBridge.exposeInMainWorld('dmlreview', bridge);
