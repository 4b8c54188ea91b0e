/** IPC channel names shared by the preload script and the main process. */
export const CALL_CHANNEL = 'dmlreview:call';
export const NOTIFY_CHANNEL = 'dmlreview:notify';
export const DIALOG_CHANNEL = 'dmlreview:dialog';
