/**
 * A fleet worker on the stand-in engine, for the fleet benchmark and the fleet's fault tests only: the real
 * worker (runWorker, what `dmlreview worker` runs) with the engine factory answering every frame with one
 * captured frame's result (bench/stand-in-engine.ts), so that the database and the queue are all it measures.
 * `node --import tsx bench/fleet-worker.ts URL CAPTURE_FILE [MS_PER_FRAME]`; its log lines go to stderr, as
 * the CLI's do. SIGTERM stops it as it stops `dmlreview worker`.
 */
import { runWorker } from '../src-main/jobs/index.js';
import { openStandInEngine } from './stand-in-engine.js';

const [databaseUrl, captureFile, msPerFrame] = process.argv.slice(2);
const worker = await runWorker({
  databaseUrl: databaseUrl!,
  threads: 1,
  openEngine: () => Promise.resolve(openStandInEngine(captureFile!, { msPerFrame: Number(msPerFrame ?? 0) })),
  log: (line) => process.stderr.write(`${line}\n`),
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void worker.stop());
await worker.stopped;
