/**
 * One writer of the fleet benchmark's store ceiling (bench/fleet.ts), a process of its own as a worker is:
 * it opens the team library, says `ready`, and on `go` stores FRAMES stand-in frames in a session of its own
 * in batches of 16 (the analysis writer's), then reports how long that took. Started with fork() and an IPC
 * channel: `node --import tsx bench/fleet-writer.ts URL CAPTURE_FILE FRAMES`.
 */
import { openLibrary } from '../src-main/library/index.js';
import { writeSyntheticSession } from '../test/helpers/synthetic-library.js';
import { standInStoredFrames } from './stand-in-engine.js';

export interface WriterReport {
  frames: number;
  seconds: number;
  /** This process's CPU seconds while it wrote. */
  cpuSeconds: number;
}

const [url, captureFile, frames] = process.argv.slice(2);
const store = await openLibrary(url!);
const frame = standInStoredFrames(captureFile!);
process.send!('ready');
await new Promise((resolve) => process.once('message', resolve));
const cpuBefore = process.cpuUsage();
const { insertSeconds } = await writeSyntheticSession(store, {
  frames: Number(frames),
  frame,
  batch: 16,
  name: `writer ${process.pid}`,
});
const cpu = process.cpuUsage(cpuBefore);
await store.close();
const report: WriterReport = {
  frames: Number(frames),
  seconds: insertSeconds,
  cpuSeconds: (cpu.user + cpu.system) / 1e6,
};
process.send!(report, () => process.disconnect());
