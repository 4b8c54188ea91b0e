import { app } from 'electron';
import { join } from 'node:path';
import { createApp } from '../app/create-app.js';
import type { AppContext } from '../api/context.js';
import { packageRoot } from '../core/paths.js';
import { registerIpc } from './ipc.js';
import { handleAppProtocol, registerSchemePrivileges } from './protocol.js';
import { createMainWindow, denyAllPermissions, preloadPath } from './window.js';

registerSchemePrivileges();
app.enableSandbox();

let context: AppContext | undefined;

async function start(): Promise<void> {
  await app.whenReady();
  denyAllPermissions();
  context = await createApp({ host: 'electron' });
  handleAppProtocol(context);
  const window = createMainWindow(preloadPath(__dirname), join(packageRoot(), 'assets', 'icon.png'));
  const unregister = registerIpc(context, window);
  window.on('closed', unregister);
}

app.on('window-all-closed', () => {
  void context?.close().finally(() => app.quit());
});

app.on('web-contents-created', (_event, contents) => {
  contents.on('will-attach-webview', (event) => event.preventDefault());
});

start().catch((error: unknown) => {
  console.error('dmlreview failed to start:', error);
  app.exit(1);
});
