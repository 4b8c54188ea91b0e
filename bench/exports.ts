/**
 * `npm run bench -- exports`: each export format on the first 4 s of the 1280x720 highway drive, analysed at 2
 * frames a second by the default model, every analysed frame flagged. Prints milliseconds per flagged frame
 * (footage decode included: every format decodes the original again) and the folder's size.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExportFormat } from '../src-shared/contract/index.js';
import { createDispatcher, handlers } from '../src-main/api/index.js';
import { createApp } from '../src-main/app/create-app.js';
import { packageRoot } from '../src-main/core/paths.js';
import { exportFlagged } from '../src-main/export/index.js';

const SECONDS = 4;

async function run(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'dml-bench-exports-'));
  const footage = join(work, 'highway.mp4');
  execFileSync('ffmpeg', [
    '-v',
    'error',
    '-i',
    join(packageRoot(), '../shared/datasets/footage/udacity-highway.mp4'),
    '-t',
    String(SECONDS),
    '-an',
    '-c',
    'copy',
    footage,
  ]);
  const context = await createApp({ host: 'review-server', libraryPath: join(work, 'library.sqlite') });
  try {
    const imported = await createDispatcher(handlers, context)('sessions.import', {
      paths: [footage],
      analyse: { sampleFps: 2 },
    });
    if (!imported.ok) throw new Error(imported.error.message);
    const session = await context.library.sessions.get((imported.value as { id: number }).id);
    const analysis = session.latestAnalysis!;
    await context.analyses.queue.waitFor(analysis.id);
    const frames = (await context.library.frames.timeline(analysis.id)).timesMs.length;
    for (let frameIndex = 0; frameIndex < frames; frameIndex++)
      await context.library.flags.add({ analysisId: analysis.id, frameIndex, category: 'hazard', note: '' });
    console.log(`${frames} flagged frames of ${session.width}x${session.height}`);
    console.log(['format', 'ms/frame', 'MB'].map((title) => title.padStart(12)).join(''));
    for (const format of ExportFormat.options) {
      const started = performance.now();
      const result = await exportFlagged(
        { sessionId: session.id, folder: work, name: format, format, semantic: format === 'coco' },
        { library: context.library },
      );
      const ms = (performance.now() - started) / frames;
      console.log(
        format.padStart(12) + ms.toFixed(0).padStart(12) + (result.bytes / 1024 / 1024).toFixed(1).padStart(12),
      );
    }
  } finally {
    await context.close();
    rmSync(work, { recursive: true, force: true });
  }
}

export const exportsBench = { name: 'exports', run };
