import type { AnalysisInfo } from '../../../src-shared/contract/index.js';
import { defaultModelsDir } from '../../core/paths.js';
import { AppError } from '../../core/errors.js';
import { DEFAULT_MODEL } from '../../engine/index.js';
import { AnalysisService, DEFAULT_SAMPLE_FPS } from '../../jobs/index.js';
import { numberFlag, parseCommandArgs, printJson, type CliCommand } from '../command.js';
import { libraryOption, openLibraryOption } from './library-common.js';

export const analyzeCommand: CliCommand = {
  name: 'analyze',
  summary: 'Import dashcam footage (video files or an image folder: one drive) and analyse it; rerun to resume',
  usage:
    'analyze FILE_OR_FOLDER... [--library PATH | --database URL [--wait] [--chunk-seconds N]] [--model NAME] [--models DIR] [--fps N|all] [--image-fps N] [--new] [--json]',
  async run(args) {
    const { values, positionals } = parseCommandArgs(this, args, {
      ...libraryOption,
      model: { type: 'string' },
      models: { type: 'string' },
      fps: { type: 'string' },
      'image-fps': { type: 'string' },
      new: { type: 'boolean' },
      json: { type: 'boolean' },
      wait: { type: 'boolean' },
      'chunk-seconds': { type: 'string' },
    });
    if (positionals.length === 0)
      throw new AppError('usage', `Give at least one video file or image folder. Usage: dmlreview ${this.usage}`);
    const sampleFps = parseFps(values.fps);
    const fleet = values.database !== undefined;
    if (!fleet && (values.wait || values['chunk-seconds'] !== undefined))
      throw new AppError(
        'usage',
        '--wait and --chunk-seconds are for an analysis queued on a team database (--database URL); with a library file analyze always runs it here',
      );
    const chunkSeconds = parseChunkSeconds(values['chunk-seconds']);
    const store = await openLibraryOption(values);
    const bar = process.stderr.isTTY ? new ProgressBar() : undefined;
    const service = new AnalysisService(store, values.models ?? defaultModelsDir(), (info) => bar?.draw(info), {
      // Another process runs this analysis: say so, and wait for it (this one takes over if it stops).
      onWaiting: (_info, message) => process.stderr.write(`dmlreview analyze: ${message}\n`),
      chunkSeconds,
    });
    const stop = () => void service.queue.cancelAll();
    process.once('SIGINT', stop);
    try {
      const probe = { imageFps: parseImageFps(values['image-fps']) };
      const session = await service.findOrImportSession(positionals, probe);
      const request = { model: values.model ?? DEFAULT_MODEL, sampleFps };
      // Rerunning the same command continues the analysis it started (after a crash or Ctrl+C) or reports the
      // one it finished; a different model or sampling rate starts a new one, and so does --new (re-analysing
      // a drive analysed by an older dmlreview, e.g. before region descriptors were stored).
      const analysis = values.new
        ? await service.startAnalysis(session.id, request)
        : await service.continueOrStartAnalysis(session.id, request);
      if (fleet && !values.wait && !['done', 'partial'].includes(analysis.status)) {
        // Queued for the workers: what was queued, and how to follow it.
        process.stderr.write(
          `Session ${session.id}, analysis ${analysis.id}: queued for the workers (dmlreview worker --database URL); add --wait to wait for it\n`,
        );
        printJson({
          session: session.id,
          analysis: analysis.id,
          status: analysis.status,
          framesTotal: analysis.framesTotal,
        });
        return;
      }
      const finished = ['done', 'partial'].includes(analysis.status)
        ? analysis
        : await service.queue.waitFor(analysis.id);
      bar?.end();
      if (finished.status === 'failed')
        throw new AppError('analysis_failed', finished.message ?? `Analysis ${finished.id} failed`);
      const events = (await store.events.list(finished.id)).length;
      const partial = finished.status !== 'done';
      process.stderr.write(
        `Session ${session.id}, analysis ${finished.id}: ${finished.framesDone} frames, ${events} events, ${finished.status}${finished.message ? ` (${finished.message})` : ''}\n`,
      );
      printJson({
        session: session.id,
        analysis: finished.id,
        frames: finished.framesDone,
        events,
        partial,
        status: finished.status,
        message: finished.message,
      });
      // Stopped by Ctrl+C (here, or while another process ran it): the exit status of a command interrupted by SIGINT.
      if (partial && finished.status !== 'partial') process.exitCode = 130;
    } finally {
      process.off('SIGINT', stop);
      await service.close();
      await store.close();
    }
  },
};

function parseFps(value: string | undefined): number | null {
  if (value === undefined) return DEFAULT_SAMPLE_FPS;
  if (value === 'all') return null;
  const fps = numberFlag('fps', value, DEFAULT_SAMPLE_FPS);
  if (!(fps > 0))
    throw new AppError('usage', `--fps must be a positive number of frames per second, or "all", got "${value}"`);
  return fps;
}

function parseChunkSeconds(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = numberFlag('chunk-seconds', value, 0);
  if (!(seconds >= 1))
    throw new AppError('usage', `--chunk-seconds must be the footage per chunk in seconds (1 or more), got "${value}"`);
  return seconds;
}

function parseImageFps(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const fps = numberFlag('image-fps', value, 1);
  if (!(fps > 0 && fps <= 1000))
    throw new AppError('usage', `--image-fps must be the image folder's frame rate (0 to 1000), got "${value}"`);
  return fps;
}

/** One line on the terminal, redrawn in place. */
class ProgressBar {
  private drawn = false;

  draw(info: AnalysisInfo): void {
    const total = Math.max(info.framesTotal, info.framesDone, 1);
    const width = 30;
    const filled = Math.round((info.framesDone / total) * width);
    const eta = info.etaSeconds === null ? '' : `  ETA ${Math.ceil(info.etaSeconds)} s`;
    process.stderr.write(
      `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${info.framesDone}/${total} frames  ${info.fps.toFixed(1)} fps${eta}  ${info.status}   `,
    );
    this.drawn = true;
  }

  end(): void {
    if (this.drawn) process.stderr.write('\n');
  }
}
