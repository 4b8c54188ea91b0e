import { AppError } from '../../core/errors.js';
import { SimilarSearch } from '../../similar/index.js';
import { integerFlag, parseCommandArgs, printJson, type CliCommand } from '../command.js';
import { formatTime, libraryOption, printTable, wantsJson, withLibrary } from './library-common.js';

/** A required integer flag of at least `min`. */
function requiredIntegerFlag(name: string, value: string | undefined, usage: string, min: number): number {
  if (value === undefined) throw new AppError('usage', `--${name} is required. Usage: dmlreview ${usage}`);
  return integerFlag(name, value, min);
}

export const similarCommand: CliCommand = {
  name: 'similar',
  summary: 'Find regions like the unknown region under a point, across every drive analysed with the same model',
  usage: 'similar --analysis ID --frame INDEX --x X --y Y [--library PATH | --database URL] [--limit N] [--json]',
  async run(args) {
    const { values } = parseCommandArgs(this, args, {
      ...libraryOption,
      analysis: { type: 'string' },
      frame: { type: 'string' },
      x: { type: 'string' },
      y: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
    });
    const analysisId = requiredIntegerFlag('analysis', values.analysis, this.usage, 1);
    const frameIndex = requiredIntegerFlag('frame', values.frame, this.usage, 0);
    const x = requiredIntegerFlag('x', values.x, this.usage, 0);
    const y = requiredIntegerFlag('y', values.y, this.usage, 0);
    const limit = Math.min(1000, integerFlag('limit', values.limit ?? '20', 1));
    const answer = await withLibrary(values, (store) =>
      new SimilarSearch(store).find({
        analysisId,
        frameIndex,
        query: { kind: 'point', x, y },
        among: 'unknown',
        limit,
      }),
    );
    // Analyses left out go to stderr: stdout stays the JSON array scripts read.
    for (const skipped of answer.skipped) process.stderr.write(`dmlreview similar: skipped: ${skipped.message}\n`);
    const rows = answer.results.map((result) => ({
      session: result.sessionId,
      analysis: result.analysisId,
      frame: result.frameIndex,
      time_ms: result.timeMs,
      box: result.box,
      distance: result.distance,
      similarity: result.similarity,
    }));
    if (wantsJson(values.json)) return printJson(rows);
    printTable([
      ['session', 'analysis', 'frame', 'time', 'box', 'distance', 'similarity'],
      ...answer.results.map((result) => [
        result.sessionName,
        result.analysisId,
        result.frameIndex,
        formatTime(result.timeMs),
        `${result.box.width}x${result.box.height}+${result.box.x}+${result.box.y}`,
        result.distance.toFixed(2),
        `${(result.similarity * 100).toFixed(0)}%`,
      ]),
    ]);
  },
};
