// Runs one analysis off the main thread (the Electron UI thread, the review server's event loop).
import { parentPort, workerData } from 'node:worker_threads';
import { runAnalysis, type AnalysisJob } from './pipeline.js';
import type { WorkerMessage } from './job-queue.js';
import { AnalysisOwnedError } from '../library/index.js';

const port = parentPort!;
const controller = new AbortController();
port.on('message', (message) => {
  if (message === 'cancel') controller.abort();
});
const send = (message: WorkerMessage) => port.postMessage(message);
try {
  const info = await runAnalysis(workerData as AnalysisJob, {
    signal: controller.signal,
    onProgress: (progress) => send({ type: 'progress', info: progress }),
  });
  send({ type: 'done', info });
} catch (error) {
  // Another process runs it: the queue watches it instead. Anything else reaches the queue as the worker's error.
  if (!(error instanceof AnalysisOwnedError)) throw error;
  send({ type: 'owned', message: error.message });
}
